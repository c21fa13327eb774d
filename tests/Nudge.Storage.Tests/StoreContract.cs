using System.Text;
using Nudge.Engine.Catalog;
using Nudge.Engine.Events;

namespace Nudge.Storage.Tests;

/// <summary>The storage contract: every provider must pass these, against a real database.</summary>
public abstract partial class StoreContract : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    protected INudgeStore Store { get; private set; } = null!;

    protected abstract Task<INudgeStore> CreateStoreAsync();

    public async Task InitializeAsync()
    {
        Store = await CreateStoreAsync();
        await Store.MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync() => await Store.DisposeAsync();

    private static IncomingEvent Track(string messageId, string? user, string? anonymous, string name, DateTimeOffset at, DateTimeOffset? received = null) =>
        new(messageId, EventType.Track, name, user, anonymous, null, at, received ?? at, [], Encoding.UTF8.GetBytes($$"""{"event":"{{name}}"}"""));

    private static IncomingEvent Identify(string messageId, string? user, string? anonymous, DateTimeOffset at, params (string Name, string Json)[] traits) =>
        new(messageId, EventType.Identify, null, user, anonymous, null, at, at, [.. traits.Select(t => new Trait(t.Name, t.Json))], "{}"u8.ToArray());

    private Task<AppendResult> AppendAsync(params IncomingEvent[] events) => Store.AppendAsync(events, Day, CancellationToken.None);

    [Fact]
    public async Task migrations_are_applied_once()
    {
        Assert.Empty(await Store.MigrateAsync(CancellationToken.None));
    }

    [Fact]
    public async Task appended_events_are_read_back_in_log_order_with_their_fields()
    {
        await AppendAsync(Track("m1", "u1", null, "Product Viewed", T0), Track("m2", null, "a1", "Cart Viewed", T0.AddMinutes(1)));
        var log = await Store.ReadLogAsync(0, 10, CancellationToken.None);
        Assert.Equal(["m1", "m2"], log.Select(e => e.MessageId));
        Assert.True(log[1].Position > log[0].Position);
        Assert.Equal((EventType.Track, "Cart Viewed", (string?)null, "a1", T0.AddMinutes(1), """{"event":"Cart Viewed"}"""),
            (log[1].Type, log[1].Name, log[1].UserId, log[1].AnonymousId, log[1].Timestamp, log[1].Json));
    }

    [Fact]
    public async Task a_message_id_is_stored_once_within_the_window_and_again_after_it()
    {
        Assert.Equal(new AppendResult(1, 1), await AppendAsync(Track("dup", "u1", null, "A", T0), Track("dup", "u1", null, "A", T0)));
        Assert.Equal(new AppendResult(0, 1), await AppendAsync(Track("dup", "u1", null, "A", T0, received: T0.AddHours(23))));
        Assert.Equal(new AppendResult(1, 0), await AppendAsync(Track("dup", "u1", null, "A", T0, received: T0.AddHours(25))));
        Assert.Equal(2, await Store.CountEventsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task imported_message_ids_are_remembered_for_ever_and_pruning_keeps_them()
    {
        await Store.AppendAsync([Track("import:order:1", "u1", null, "Order Completed", T0)], TimeSpan.MaxValue, CancellationToken.None);
        await Store.AppendAsync([Track("live", "u1", null, "A", T0)], Day, CancellationToken.None);
        Assert.Equal(1, await Store.PruneDedupeAsync(T0.AddDays(400), CancellationToken.None));
        var again = await Store.AppendAsync([Track("import:order:1", "u1", null, "Order Completed", T0.AddDays(400))], TimeSpan.MaxValue, CancellationToken.None);
        Assert.Equal(new AppendResult(0, 1), again);
    }

    [Fact]
    public async Task anonymous_events_join_the_customer_once_identified()
    {
        await AppendAsync(Track("c1", null, "anon-7", "Product Added", T0), Track("c2", null, "anon-7", "Product Added", T0.AddMinutes(2)));
        Assert.Null(await Store.GetCustomerAsync("anon-7", CancellationToken.None));
        await AppendAsync(Identify("i1", "u7", "anon-7", T0.AddMinutes(5), ("email", "\"u7@shop.test\"")));

        var customer = await Store.GetCustomerAsync("anon-7", CancellationToken.None);
        Assert.Equal("u7", customer!.UserId);
        Assert.Equal(["anon-7"], customer.Identities.Select(i => i.Id));
        var events = await Store.GetCustomerEventsAsync("u7", null, 10, CancellationToken.None);
        Assert.Equal(["i1", "c2", "c1"], events.Select(e => e.MessageId));
    }

    [Fact]
    public async Task alias_joins_a_previous_id_and_its_events()
    {
        await AppendAsync(Track("p1", "guest-1", null, "Checkout Started", T0));
        await AppendAsync(new IncomingEvent("al", EventType.Alias, null, "u9", null, "guest-1", T0.AddMinutes(1), T0, [], "{}"u8.ToArray()));
        var events = await Store.GetCustomerEventsAsync("u9", null, 10, CancellationToken.None);
        Assert.Equal(["al", "p1"], events.Select(e => e.MessageId));
        Assert.Equal("u9", (await Store.GetCustomerAsync("guest-1", CancellationToken.None))!.UserId);
    }

    [Fact]
    public async Task an_alias_brings_the_anonymous_history_of_the_old_id_along()
    {
        await AppendAsync(Track("v1", null, "anon-3", "Product Viewed", T0), Identify("v2", "old-3", "anon-3", T0.AddMinutes(1)));
        await AppendAsync(new IncomingEvent("v3", EventType.Alias, null, "new-3", null, "old-3", T0.AddMinutes(2), T0, [], "{}"u8.ToArray()));
        Assert.Equal(["v3", "v2", "v1"], (await Store.GetCustomerEventsAsync("new-3", null, 10, CancellationToken.None)).Select(e => e.MessageId));
    }

    [Fact]
    public async Task traits_merge_last_write_wins_by_event_timestamp_across_appends_and_identities()
    {
        await AppendAsync(Identify("t2", "u1", null, T0.AddHours(2), ("city", "\"杭州\""), ("gender", "\"f\"")));
        await AppendAsync(Identify("t1", "u1", null, T0.AddHours(1), ("city", "\"上海\""), ("phone", "\"+8613800000000\"")));
        await AppendAsync(Identify("t3", null, "anon-1", T0.AddHours(3), ("gender", "\"m\"")), Track("t4", "u1", "anon-1", "Page", T0.AddHours(4)));

        var customer = await Store.GetCustomerAsync("u1", CancellationToken.None);
        Assert.Equal("\"杭州\"", customer!.Traits["city"].JsonValue);
        Assert.Equal("\"+8613800000000\"", customer.Traits["phone"].JsonValue);
        Assert.Equal("\"m\"", customer.Traits["gender"].JsonValue);
        Assert.Equal((T0.AddHours(1), T0.AddHours(4)), (customer.FirstSeen, customer.LastSeen));
    }

    [Fact]
    public async Task customer_events_page_backwards_by_position()
    {
        await AppendAsync([.. Enumerable.Range(0, 5).Select(i => Track($"e{i}", "u1", null, "A", T0.AddMinutes(i)))]);
        var first = await Store.GetCustomerEventsAsync("u1", null, 2, CancellationToken.None);
        var second = await Store.GetCustomerEventsAsync("u1", first[^1].Position, 2, CancellationToken.None);
        Assert.Equal(["e4", "e3", "e2", "e1"], first.Concat(second).Select(e => e.MessageId));
    }

    [Fact]
    public async Task product_price_and_stock_changes_are_recorded_and_an_unchanged_upsert_records_nothing()
    {
        var milk = new Product("p1", "SKU1", "奶粉", "母婴", "Feihe", 199.00m, "CNY", 0, "https://shop.test/p1", null);
        Assert.Equal([CatalogChangeKind.Created], (await Store.UpsertProductsAsync([milk], T0, CancellationToken.None)).Select(c => c.Kind));
        Assert.Empty(await Store.UpsertProductsAsync([milk], T0, CancellationToken.None));
        var changes = await Store.UpsertProductsAsync([milk with { Price = 179.5m, Stock = 20 }], T0.AddDays(1), CancellationToken.None);
        Assert.Equal([(CatalogChangeKind.Price, "199.00", "179.5"), (CatalogChangeKind.Stock, "0", "20")], changes.Select(c => (c.Kind, c.OldValue, c.NewValue)));
        Assert.Equal(179.5m, (await Store.GetProductAsync("p1", CancellationToken.None))!.Price);

        Assert.True(await Store.DeleteProductAsync("p1", T0.AddDays(2), CancellationToken.None));
        Assert.False(await Store.DeleteProductAsync("p1", T0.AddDays(2), CancellationToken.None));
        var log = await Store.ReadCatalogChangesAsync(0, 10, CancellationToken.None);
        Assert.Equal([CatalogChangeKind.Created, CatalogChangeKind.Price, CatalogChangeKind.Stock, CatalogChangeKind.Deleted], log.Select(c => c.Kind));
    }

    [Fact]
    public async Task products_list_in_id_order_with_keyset_paging()
    {
        await Store.UpsertProductsAsync([new Product("b"), new Product("a"), new Product("c")], T0, CancellationToken.None);
        var page = await Store.ListProductsAsync(null, 2, CancellationToken.None);
        Assert.Equal(["a", "b"], page.Select(p => p.ProductId));
        Assert.Equal(["c"], (await Store.ListProductsAsync("b", 2, CancellationToken.None)).Select(p => p.ProductId));
    }

    [Fact]
    public async Task key_hashes_are_stored_and_replaced()
    {
        Assert.Null(await Store.GetKeyHashAsync("write", CancellationToken.None));
        await Store.SetKeyHashAsync("write", "AA", T0, CancellationToken.None);
        await Store.SetKeyHashAsync("write", "BB", T0, CancellationToken.None);
        Assert.Equal("BB", await Store.GetKeyHashAsync("write", CancellationToken.None));
    }

    // ---- Customer runtime ----

    [Fact]
    public async Task dispatch_reads_resolve_each_event_to_its_customer_as_identities_are_now()
    {
        await AppendAsync(Track("m1", null, "anon-1", "Product Viewed", T0), Track("m2", null, "anon-2", "Product Viewed", T0), Track("m3", "old", null, "A", T0));
        await AppendAsync(Track("m4", "u1", "anon-1", "Product Added", T0.AddMinutes(1)));
        await AppendAsync(new IncomingEvent("m5", EventType.Alias, null, "u2", null, "old", T0, T0, [], "{}"u8.ToArray()));

        var owned = await Store.ReadLogForDispatchAsync(0, 10, CancellationToken.None);
        Assert.Equal(["u1", null, "u2", "u1", "u2"], owned.Select(o => o.Owner));
        Assert.Equal(["m3", "m5"], (await Store.ReadCustomerLogAsync("u2", long.MaxValue, CancellationToken.None)).Select(e => e.MessageId));
        Assert.Equal(["m1"], (await Store.ReadCustomerLogAsync("u1", owned[0].Event.Position, CancellationToken.None)).Select(e => e.MessageId));
    }

    [Fact]
    public async Task a_customer_set_aside_keeps_their_first_position_until_released()
    {
        await Store.SaveStatesAsync([new CustomerStateWrite("u1", 7, T0.AddDays(1), [1], []), new CustomerStateWrite("u3", 7, T0.AddDays(1), [1], [])], null, T0, CancellationToken.None);
        await Store.QuarantineAsync(new QuarantinedCustomer("u2", 40, "first failure", T0.AddMinutes(1)), CancellationToken.None);
        await Store.QuarantineAsync(new QuarantinedCustomer("u1", 12, "boom", T0), CancellationToken.None);
        // Failing again later: the reason is updated, the position where their events wait is not.
        await Store.QuarantineAsync(new QuarantinedCustomer("u2", 55, "second failure", T0.AddMinutes(5)), CancellationToken.None);

        Assert.Equal(
            [new QuarantinedCustomer("u1", 12, "boom", T0), new QuarantinedCustomer("u2", 40, "second failure", T0.AddMinutes(1))],
            await Store.QuarantinedAsync(CancellationToken.None));
        Assert.True(await Store.ReleaseQuarantineAsync("u1", CancellationToken.None));
        Assert.False(await Store.ReleaseQuarantineAsync("u1", CancellationToken.None));
        Assert.Equal(["u2"], (await Store.QuarantinedAsync(CancellationToken.None)).Select(q => q.CustomerId));
        // Their timer was cleared when they were set aside; other customers' timers are untouched.
        Assert.Equal([("u3", T0.AddDays(1))], await Store.DueCustomersAsync(T0.AddDays(2), 10, null, CancellationToken.None));
    }

    [Fact]
    public async Task a_state_written_with_its_timer_unchanged_keeps_the_timer_and_restores_one_quarantine_cleared()
    {
        async Task Save(byte state, DateTimeOffset? timer) =>
            await Store.SaveStatesAsync([new CustomerStateWrite("u1", state, timer, [state], [])], null, T0, CancellationToken.None);
        async Task<IReadOnlyList<(string, DateTimeOffset)>> Due() => await Store.DueCustomersAsync(T0.AddDays(9), 10, null, CancellationToken.None);

        await Save(1, T0.AddDays(1));
        await Save(2, T0.AddDays(1));
        Assert.Equal([2], await Store.LoadStateAsync("u1", CancellationToken.None));
        Assert.Equal([("u1", T0.AddDays(1))], await Due());

        // Quarantine clears the stored timer behind the customer's back; the next write with the same
        // timer (the customer's own view) must put it back.
        await Store.QuarantineAsync(new QuarantinedCustomer("u1", 3, "boom", T0), CancellationToken.None);
        Assert.Empty(await Due());
        await Store.ReleaseQuarantineAsync("u1", CancellationToken.None);
        await Save(3, T0.AddDays(1));
        Assert.Equal([("u1", T0.AddDays(1))], await Due());

        await Save(4, T0.AddDays(2));
        Assert.Equal([("u1", T0.AddDays(2))], await Due());
        await Save(5, null);
        Assert.Empty(await Due());
        await Save(6, null);
        Assert.Equal([6], await Store.LoadStateAsync("u1", CancellationToken.None));
        Assert.Empty(await Due());
    }

    [Fact]
    public async Task due_customers_page_in_due_order_with_ties_by_id()
    {
        // Five customers, three of them due at the same moment: pages of two meet each exactly once.
        await Store.SaveStatesAsync(
            [.. new[] { ("c", 1), ("a", 1), ("e", 0), ("b", 1), ("d", 3), ("late", 9) }.Select(c => new CustomerStateWrite(c.Item1, 1, T0.AddHours(c.Item2), [1], []))],
            null, T0, CancellationToken.None);
        List<string> seen = [];
        (string, DateTimeOffset)? after = null;
        while (true)
        {
            var page = await Store.DueCustomersAsync(T0.AddHours(5), 2, after, CancellationToken.None);
            seen.AddRange(page.Select(d => d.CustomerId));
            if (page.Count < 2) break;
            after = page[^1];
        }

        Assert.Equal(["e", "a", "b", "c", "d"], seen);
    }

    [Fact]
    public async Task the_write_back_order_holds_each_write_once_and_written_states_read_back()
    {
        static CustomerStateWrite Write(string id, byte state) => new(id, 1, null, [state], []);
        await Store.SaveStatesAsync([Write("b", 1)], null, T0, CancellationToken.None);

        var ordered = await Store.InWriteOrderAsync([Write("c", 2), Write("a", 2), Write("b", 2)], CancellationToken.None);
        Assert.Equal(["a", "b", "c"], ordered.Select(w => w.CustomerId).Order(StringComparer.Ordinal));
        await Store.SaveStatesAsync(ordered, null, T0, CancellationToken.None);

        foreach (var id in new[] { "a", "b", "c" }) Assert.Equal([2], await Store.LoadStateAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task states_changes_members_and_the_checkpoint_are_written_together()
    {
        var entered = new Nudge.Engine.Customers.CustomerChange("segment_entered", "vip", null, null, T0);
        await Store.SaveStatesAsync(
            [new CustomerStateWrite("u1", 7, T0.AddDays(30), [1, 2, 3], [entered]), new CustomerStateWrite("u2", 8, T0.AddDays(1), [4], [entered])],
            new Dictionary<string, string> { ["dispatch_position"] = "8" }, T0, CancellationToken.None);

        Assert.Equal([1, 2, 3], await Store.LoadStateAsync("u1", CancellationToken.None));
        Assert.Null(await Store.LoadStateAsync("nobody", CancellationToken.None));
        Assert.Equal("8", await Store.GetMetaAsync("dispatch_position", CancellationToken.None));
        Assert.Equal(2, await Store.CountSegmentMembersAsync("vip", CancellationToken.None));
        Assert.Equal([("u2", T0.AddDays(1))], await Store.DueCustomersAsync(T0.AddDays(2), 10, null, CancellationToken.None));
        Assert.Equal(2, await Store.CountStatesAsync(CancellationToken.None));

        var left = entered with { Kind = "segment_left", At = T0.AddDays(2) };
        await Store.SaveStatesAsync([new CustomerStateWrite("u1", 9, null, [9], [left])], null, T0, CancellationToken.None);
        Assert.Equal(["u2"], (await Store.SegmentMembersAsync("vip", null, 10, CancellationToken.None)).Select(m => m.CustomerId));
        Assert.Equal(["segment_left", "segment_entered"], (await Store.CustomerChangesAsync("u1", 10, CancellationToken.None)).Select(c => c.Kind));
        // Several changes in one write-back, read newest first across write-backs and cut at the limit.
        Nudge.Engine.Customers.CustomerChange Tag(string name, int day) => new("tag_added", name, "true", null, T0.AddDays(day));
        await Store.SaveStatesAsync([new CustomerStateWrite("u1", 10, null, [9], [Tag("a", 3), Tag("b", 3)])], null, T0, CancellationToken.None);
        Assert.Equal(["b", "a", "vip"], (await Store.CustomerChangesAsync("u1", 3, CancellationToken.None)).Select(c => c.Name));
        Assert.Equal(["b"], (await Store.CustomerChangesAsync("u1", 1, CancellationToken.None)).Select(c => c.Name));
        Assert.Equal(Tag("a", 3), (await Store.CustomerChangesAsync("u1", 2, CancellationToken.None))[1]);
        Assert.Empty(await Store.CustomerChangesAsync("u1", 0, CancellationToken.None));
        Assert.Empty(await Store.DueCustomersAsync(T0.AddDays(2), 10, null, CancellationToken.None).ContinueWith(t => t.Result.Where(d => d.CustomerId == "u1").ToList(), TaskScheduler.Default));

        await Store.SaveStatesAsync([new CustomerStateWrite("u2", 9, null, [], [], Retired: true)], null, T0, CancellationToken.None);
        Assert.Null(await Store.LoadStateAsync("u2", CancellationToken.None));
        Assert.Equal(0, await Store.CountSegmentMembersAsync("vip", CancellationToken.None));
    }

    [Fact]
    public async Task definition_changes_bump_one_version()
    {
        Assert.Equal(0, (await Store.LoadDefinitionsAsync(CancellationToken.None)).Version);
        await Store.ReplaceDefinitionsAsync("segment", [new StoredDefinition("segment", "a", "{}", 0, T0), new StoredDefinition("segment", "b", "{}", 1, T0)], [], false, CancellationToken.None);
        var version = await Store.ReplaceDefinitionsAsync("segment", [new StoredDefinition("segment", "c", "{}", 2, T0)], ["a"], false, CancellationToken.None);
        Assert.Equal(2, version);
        var (loaded, definitions) = await Store.LoadDefinitionsAsync(CancellationToken.None);
        Assert.Equal(2, loaded);
        Assert.Equal(["b", "c"], definitions.Select(d => d.Id));
    }

    [Fact]
    public async Task visiting_states_in_parts_sees_each_state_once()
    {
        var writes = Enumerable.Range(0, 25).Select(i => new CustomerStateWrite($"u{i}", i, null, [(byte)i], [])).ToList();
        await Store.SaveStatesAsync(writes, null, T0, CancellationToken.None);
        var seen = new System.Collections.Concurrent.ConcurrentBag<byte>();
        await Store.VisitStatesAsync(3, _ => state => seen.Add(state[0]), CancellationToken.None);
        Assert.Equal(Enumerable.Range(0, 25).Select(i => (byte)i), seen.Order());
    }
}
