using Nudge.Engine.Events;
using Nudge.Engine.Messaging;

namespace Nudge.Storage.Tests;

public abstract partial class StoreContract
{
    private static MessageIntent Intent(string key, string customer = "u1", string topic = Topics.Marketing) => new(key, customer, ChannelNames.Email, topic, "welcome", """{"a":1}""");

    [Fact]
    public async Task an_idempotency_key_queues_one_message_however_often_it_is_sent()
    {
        var first = await Store.EnqueueMessageAsync(Intent("k1"), T0, CancellationToken.None);
        var again = await Store.EnqueueMessageAsync(Intent("k1") with { Channel = ChannelNames.Sms }, T0.AddMinutes(1), CancellationToken.None);
        Assert.True(first.Created);
        Assert.Equal(new EnqueueResult(first.Id, false, MessageStatus.Queued), again);
        var stored = await Store.GetMessageAsync(first.Id, CancellationToken.None);
        Assert.Equal((ChannelNames.Email, """{"a":1}""", MessageStatus.Queued, T0), (stored!.Intent.Channel, stored.Intent.DataJson, stored.Status, stored.DueAt));
    }

    [Fact]
    public async Task due_messages_are_claimed_once_in_due_order_and_decisions_are_recorded()
    {
        var a = await Store.EnqueueMessageAsync(Intent("a"), T0, CancellationToken.None);
        var b = await Store.EnqueueMessageAsync(Intent("b"), T0.AddMinutes(1), CancellationToken.None);
        var later = await Store.EnqueueMessageAsync(Intent("later"), T0.AddHours(1), CancellationToken.None);
        var claimed = await Store.ClaimDueMessagesAsync(T0.AddMinutes(5), 10, CancellationToken.None);
        Assert.Equal([a.Id, b.Id], claimed.Select(m => m.Id));
        Assert.Empty(await Store.ClaimDueMessagesAsync(T0.AddMinutes(5), 10, CancellationToken.None));

        await Store.UpdateMessagesAsync([
            new MessageUpdate(a.Id, MessageStatus.Sending, Channel: ChannelNames.Email, Recipient: "a@example.com", SentAt: T0.AddMinutes(5), Links: ["https://x.example/1", "https://x.example/2"]),
            new MessageUpdate(b.Id, MessageStatus.Deferred, "quiet_hours", T0.AddHours(10)),
        ], T0.AddMinutes(5), CancellationToken.None);
        Assert.Equal("https://x.example/2", await Store.GetMessageLinkAsync(a.Id, 1, CancellationToken.None));
        Assert.Null(await Store.GetMessageLinkAsync(a.Id, 2, CancellationToken.None));
        Assert.Equal([new SentMessage(ChannelNames.Email, T0.AddMinutes(5))], await Store.RecentMarketingAsync("u1", T0, CancellationToken.None));
        Assert.Equal(T0.AddHours(1), await Store.NextMessageDueAsync(CancellationToken.None));

        // After a restart: the interrupted send is dead (it may have arrived), nothing is sent twice.
        await Store.RecoverMessagesAsync(T0.AddMinutes(6), CancellationToken.None);
        var interrupted = await Store.GetMessageAsync(a.Id, CancellationToken.None);
        Assert.Equal(MessageStatus.Dead, interrupted!.Status);
        Assert.StartsWith("interrupted", interrupted.Reason);
        Assert.Equal(1, await Store.RetryInterruptedAsync(T0.AddMinutes(7), CancellationToken.None));
        Assert.Equal(MessageStatus.Queued, (await Store.GetMessageAsync(a.Id, CancellationToken.None))!.Status);
        await Store.UpdateMessagesAsync([new MessageUpdate(a.Id, MessageStatus.Dead, "gave up")], T0.AddMinutes(7), CancellationToken.None);
        Assert.Equal(0, await Store.RetryInterruptedAsync(T0.AddMinutes(7), CancellationToken.None));
        Assert.True(await Store.RetryMessageAsync(a.Id, T0.AddMinutes(7), CancellationToken.None));
        Assert.False(await Store.RetryMessageAsync(b.Id, T0.AddMinutes(7), CancellationToken.None));
        Assert.Equal([later.Id, a.Id], (await Store.ListMessagesAsync("u1", MessageStatus.Queued, null, 10, CancellationToken.None)).Select(m => m.Id));
        Assert.Equal(1, (await Store.CountMessagesByStatusAsync(CancellationToken.None))[MessageStatus.Deferred]);
    }

    [Fact]
    public async Task messages_due_together_are_claimed_by_customer_and_key_whatever_order_they_were_written_in()
    {
        // Written in an order no rule gives: a round cut after three must still take u1's both, then u2's "a".
        foreach (var (key, customer) in new[] { ("u2-b", "u2"), ("u1-b", "u1"), ("u2-a", "u2"), ("u1-a", "u1") })
            await Store.EnqueueMessageAsync(Intent(key, customer), T0, CancellationToken.None);
        var early = await Store.EnqueueMessageAsync(Intent("u3-z", "u3"), T0.AddMinutes(-1), CancellationToken.None);

        var first = await Store.ClaimDueMessagesAsync(T0, 3, CancellationToken.None);
        Assert.Equal(["u3-z", "u1-a", "u1-b"], first.Select(m => m.Intent.IdempotencyKey));
        Assert.Equal(early.Id, first[0].Id);
        Assert.Equal(["u2-a", "u2-b"], (await Store.ClaimDueMessagesAsync(T0, 3, CancellationToken.None)).Select(m => m.Intent.IdempotencyKey));
    }

    [Fact]
    public async Task consent_from_identify_and_the_api_forms_one_ledger_across_joined_ids()
    {
        await AppendAsync(Identify("i1", null, "anon-1", T0, ("consent", """{"email": true}""")));
        await AppendAsync(Identify("i2", "u1", "anon-1", T0.AddMinutes(1), ("phone", "\"+8613800000000\"")));
        await Store.RecordConsentAsync([new ConsentChange("u1", ChannelNames.Email, Topics.Marketing, false, "unsubscribe", T0.AddMinutes(2))], CancellationToken.None);
        var ledger = await Store.ConsentLedgerAsync("u1", CancellationToken.None);
        Assert.Equal([("anon-1", true, "identify"), ("u1", false, "unsubscribe")], ledger.Select(c => (c.Subject, c.Granted, c.Source)));
        Assert.Equal(["u1"], await Store.CustomersWithContactAsync("phone", "+8613800000000", CancellationToken.None));
    }

    [Fact]
    public async Task delivery_facts_gather_traits_joined_ids_consent_and_suppressions_for_many_customers_at_once()
    {
        await AppendAsync(Identify("i1", null, "anon-1", T0, ("consent", """{"email": true}""")));
        await AppendAsync(Identify("i2", "u1", "anon-1", T0.AddMinutes(1), ("email", "\"a@example.com\"")));
        await AppendAsync(Identify("i3", "u2", null, T0.AddMinutes(1), ("email", "\"b@example.com\""), ("city", "\"杭州\"")));
        await Store.RecordConsentAsync([new ConsentChange("u1", ChannelNames.Email, Topics.Marketing, false, "unsubscribe", T0.AddMinutes(2))], CancellationToken.None);
        await Store.SuppressAsync(ChannelNames.Email, "a@example.com", "hard_bounce", T0, CancellationToken.None);

        var facts = await Store.DeliveryFactsAsync(["u1", "u2", "nobody"], T0.AddDays(-1), CancellationToken.None);

        Assert.Equal(["u1", "u2", "nobody"], facts.Select(f => f.RequestedId));
        var (u1, u2, nobody) = (facts[0], facts[1], facts[2]);
        Assert.Equal("\"a@example.com\"", u1.Profile!.Traits["email"].JsonValue);
        Assert.Equal(["anon-1"], u1.Profile.Identities.Select(i => i.Id));
        Assert.Equal([("anon-1", true), ("u1", false)], u1.Consent.Select(c => (c.Subject, c.Granted)));
        Assert.Equal("hard_bounce", u1.Suppressed[ChannelNames.Email]);
        Assert.Equal(["city", "email"], u2.Profile!.Traits.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(u2.Consent);
        Assert.Empty(u2.Suppressed);
        Assert.Null(nobody.Profile);
    }

    [Fact]
    public async Task suppressions_inbox_and_templates_round_trip()
    {
        await Store.SuppressAsync(ChannelNames.Email, "a@example.com", "hard_bounce", T0, CancellationToken.None);
        Assert.Equal("hard_bounce", await Store.SuppressionAsync(ChannelNames.Email, "a@example.com", CancellationToken.None));
        Assert.True(await Store.UnsuppressAsync(ChannelNames.Email, "a@example.com", CancellationToken.None));
        Assert.Null(await Store.SuppressionAsync(ChannelNames.Email, "a@example.com", CancellationToken.None));

        var added = await Store.AddInboxAsync(new InboxItem(0, "u1", 7, "Hi", "Body", null, T0, null), CancellationToken.None);
        Assert.Null(await Store.AddInboxAsync(new InboxItem(0, "u1", 7, "Hi", "Body", null, T0, null), CancellationToken.None));
        var item = Assert.Single(await Store.ListInboxAsync("u1", null, unreadOnly: true, 10, CancellationToken.None));
        Assert.Equal(item.Id, added);
        Assert.Equal([7L], await Store.MarkInboxReadAsync("u1", [item.Id], T0.AddMinutes(1), CancellationToken.None));
        Assert.Empty(await Store.MarkInboxReadAsync("u2", [item.Id], T0.AddMinutes(1), CancellationToken.None));
        Assert.Empty(await Store.ListInboxAsync("u1", null, unreadOnly: true, 10, CancellationToken.None));

        await Store.PutTemplateAsync(new StoredTemplate("t1", """{"locales":{}}""", T0), CancellationToken.None);
        Assert.Equal(["t1"], (await Store.LoadTemplatesAsync(CancellationToken.None)).Select(t => t.Id));
        Assert.True(await Store.DeleteTemplateAsync("t1", CancellationToken.None));
    }
}

public abstract partial class StoreContract
{
    [Fact]
    public async Task pool_codes_are_issued_once_each_within_the_per_customer_limit_and_redeemed_once()
    {
        Assert.Equal(2, await Store.AddCouponCodesAsync("c1", ["A1", "A2", "A1"], CancellationToken.None));
        var first = await Store.IssueCouponAsync(new CouponIssue("c1", "u1", 10, 1, null, T0, T0.AddDays(1)), CancellationToken.None);
        var sameMessage = await Store.IssueCouponAsync(new CouponIssue("c1", "u1", 10, 1, null, T0, T0.AddDays(1)), CancellationToken.None);
        Assert.Equal("A1", first.Code!.Code);
        Assert.Equal("A1", sameMessage.Code!.Code);
        Assert.Equal("limit", (await Store.IssueCouponAsync(new CouponIssue("c1", "u1", 11, 1, null, T0, null), CancellationToken.None)).Refusal);
        Assert.Equal("A2", (await Store.IssueCouponAsync(new CouponIssue("c1", "u2", 12, 1, null, T0, null), CancellationToken.None)).Code!.Code);
        Assert.Equal("pool_empty", (await Store.IssueCouponAsync(new CouponIssue("c1", "u3", 13, 1, null, T0, null), CancellationToken.None)).Refusal);

        var generated = await Store.IssueCouponAsync(new CouponIssue("g1", "u1", 14, 2, "G-XYZ", T0, null), CancellationToken.None);
        Assert.Equal(("G-XYZ", "u1"), (generated.Code!.Code, generated.Code.CustomerId));

        Assert.True(await Store.RedeemCouponAsync("A1", "o1", 260.5m, T0.AddHours(2), CancellationToken.None));
        Assert.False(await Store.RedeemCouponAsync("A1", "o2", 100m, T0.AddHours(3), CancellationToken.None));
        Assert.False(await Store.RedeemCouponAsync("NOPE", "o3", 100m, T0.AddHours(3), CancellationToken.None));
        Assert.Equal(new CouponStats(2, 1, 260.5m, 0), await Store.CouponStatsAsync("c1", CancellationToken.None));
        Assert.Equal(["A1", "G-XYZ"], (await Store.CustomerCouponsAsync("u1", CancellationToken.None)).Select(c => c.Code).Order());
    }
}
