using System.Text;
using Nudge.Engine.Customers;
using Nudge.Engine.Events;
using Nudge.Engine.Journeys;

namespace Nudge.Storage.Tests;

public abstract partial class StoreContract
{
    private static IncomingEvent ProductEvent(string messageId, string? user, string? anonymous, string name, string productId, DateTimeOffset at) =>
        new(messageId, EventType.Track, name, user, anonymous, null, at, at, [],
            Encoding.UTF8.GetBytes($$$"""{"type":"track","event":"{{{name}}}","properties":{"product_id":{{{productId}}}}}"""));

    private const string CartV1 = """{"id":"cart","v":1}""";

    [Fact]
    public async Task a_changed_journey_document_is_a_new_version_and_the_same_one_is_not()
    {
        Assert.Equal((1, true), await Store.SaveJourneyAsync("cart", _ => CartV1, "api", T0, CancellationToken.None));
        Assert.Equal((1, false), await Store.SaveJourneyAsync("cart", _ => CartV1, "api", T0, CancellationToken.None));
        Assert.Equal((2, true), await Store.SaveJourneyAsync("cart", v => $$"""{"id":"cart","v":{{v}}}""", "cart.yaml", T0.AddHours(1), CancellationToken.None));
        await Store.SaveJourneyAsync("birthday", _ => """{"id":"birthday"}""", "api", T0, CancellationToken.None);
        Assert.Equal([("birthday", 1), ("cart", 1), ("cart", 2)], (await Store.LoadJourneysAsync(CancellationToken.None)).Select(j => (j.Id, j.Version)));
        Assert.Equal("cart.yaml", (await Store.LoadJourneysAsync(CancellationToken.None)).Single(j => j.Version == 2).Source);
        Assert.True(await Store.DeleteJourneyAsync("cart", T0.AddHours(2), CancellationToken.None));
        Assert.False(await Store.DeleteJourneyAsync("cart", T0.AddHours(2), CancellationToken.None));
        Assert.Equal(["birthday"], (await Store.LoadJourneysAsync(CancellationToken.None)).Select(j => j.Id));
        // Saved again after the delete: a new version number, never one an old instance could take for its own.
        Assert.Equal((3, true), await Store.SaveJourneyAsync("cart", _ => CartV1, "api", T0.AddHours(3), CancellationToken.None));
    }

    [Fact]
    public async Task an_unchanged_file_leaves_later_api_edits_in_place()
    {
        Assert.Equal((1, true), await Store.SaveJourneyAsync("cart", _ => "{}", "cart.yaml", T0, CancellationToken.None));
        Assert.Equal((2, true), await Store.SaveJourneyAsync("cart", _ => "[]", "api", T0, CancellationToken.None));
        Assert.Equal((2, false), await Store.SaveJourneyAsync("cart", _ => "{}", "cart.yaml", T0, CancellationToken.None));
        Assert.Equal((3, true), await Store.SaveJourneyAsync("cart", _ => "{ }", "cart.yaml", T0, CancellationToken.None));
    }

    [Fact]
    public async Task journey_activity_is_written_with_the_state_and_counted_by_step_and_reason()
    {
        JourneyActivity[] activity =
        [
            new("cart", 1, 1, ActivityKinds.Entered, null, null, T0),
            new("cart", 1, 1, ActivityKinds.Step, "wait", null, T0),
            new("cart", 1, 1, ActivityKinds.Step, "reminder", null, T0.AddHours(1)),
            new("cart", 1, 1, ActivityKinds.Ended, null, "exit:Order Completed", T0.AddHours(2)),
        ];
        await Store.SaveStatesAsync([new CustomerStateWrite("u1", 1, null, [1], [], Activity: activity)], null, T0, CancellationToken.None);
        await Store.SaveStatesAsync([new CustomerStateWrite("u2", 2, null, [1], [], Activity: [new("cart", 1, 1, ActivityKinds.Entered, null, null, T0)])], null, T0, CancellationToken.None);
        var counts = await Store.JourneyCountsAsync("cart", CancellationToken.None);
        Assert.Contains(new JourneyCount(1, ActivityKinds.Entered, null, null, 2), counts);
        Assert.Contains(new JourneyCount(1, ActivityKinds.Step, "reminder", null, 1), counts);
        Assert.Contains(new JourneyCount(1, ActivityKinds.Ended, null, "exit:Order Completed", 1), counts);
        var history = await Store.CustomerJourneysAsync("u1", 10, CancellationToken.None);
        Assert.Equal([ActivityKinds.Ended, ActivityKinds.Step, ActivityKinds.Step, ActivityKinds.Entered], history.Select(h => h.Kind));
        // Of two entries at the same time, the one written later comes first.
        Assert.Equal(["reminder", "wait"], (await Store.CustomerJourneysAsync("u1", 3, CancellationToken.None)).Skip(1).Select(h => h.Step));
    }

    [Fact]
    public async Task a_customers_journey_history_is_newest_first_across_write_backs_whose_times_interleave()
    {
        static CustomerStateWrite Write(params JourneyActivity[] activity) => new("u1", 1, null, [1], [], Activity: activity);
        JourneyActivity At(string step, int hours) => new("cart", 1, 1, ActivityKinds.Step, step, null, T0.AddHours(hours));
        // A later write-back can hold an entry older than one written before (a timer's step runs at its due time).
        await Store.SaveStatesAsync([Write(At("a", 1), At("d", 4))], null, T0, CancellationToken.None);
        await Store.SaveStatesAsync([Write(At("b", 2), At("c", 3))], null, T0, CancellationToken.None);
        await Store.SaveStatesAsync([Write(At("e", 5))], null, T0, CancellationToken.None);

        Assert.Equal(["e", "d", "c", "b", "a"], (await Store.CustomerJourneysAsync("u1", 10, CancellationToken.None)).Select(h => h.Step));
        Assert.Equal(["e", "d", "c"], (await Store.CustomerJourneysAsync("u1", 3, CancellationToken.None)).Select(h => h.Step));
        // Of two entries at the same time, the one written later comes first, even when its row's latest entry is older.
        await Store.SaveStatesAsync([Write(At("f", 1))], null, T0, CancellationToken.None);
        Assert.Equal(["e", "d", "c", "b", "f", "a"], (await Store.CustomerJourneysAsync("u1", 10, CancellationToken.None)).Select(h => h.Step));
        Assert.Equal(["e", "d", "c", "b", "f"], (await Store.CustomerJourneysAsync("u1", 5, CancellationToken.None)).Select(h => h.Step));
        Assert.Empty(await Store.CustomerJourneysAsync("nobody", 3, CancellationToken.None));
        Assert.Empty(await Store.CustomerJourneysAsync("u1", 0, CancellationToken.None));
    }

    [Fact]
    public async Task a_staff_task_is_opened_once_per_key_listed_by_queue_and_closed_once()
    {
        var task = new StaffTask(0, "j:vip:1:u1:1:call", "u1", "vip", "call", "Call", "Be nice", "vip", """{"a":1}""", T0);
        Assert.True(await Store.AddStaffTaskAsync(task, CancellationToken.None));
        Assert.False(await Store.AddStaffTaskAsync(task, CancellationToken.None));
        await Store.AddStaffTaskAsync(task with { Key = "other", Queue = "service" }, CancellationToken.None);
        var open = Assert.Single(await Store.ListStaffTasksAsync("vip", true, null, 10, CancellationToken.None));
        Assert.Equal(("u1", "Call", "Be nice", """{"a":1}"""), (open.CustomerId, open.Title, open.Note, open.DataJson));
        var done = await Store.CompleteStaffTaskAsync(open.Id, "li", T0.AddHours(1), CancellationToken.None);
        Assert.Equal(("li", T0.AddHours(1)), (done!.DoneBy, done.DoneAt!.Value));
        Assert.Equal("li", (await Store.CompleteStaffTaskAsync(open.Id, "wang", T0.AddHours(2), CancellationToken.None))!.DoneBy);
        Assert.Empty(await Store.ListStaffTasksAsync("vip", true, null, 10, CancellationToken.None));
        Assert.Equal(2, (await Store.ListStaffTasksAsync(null, false, null, 10, CancellationToken.None)).Count);
        Assert.Null(await Store.CompleteStaffTaskAsync(999, "li", T0, CancellationToken.None));
    }

    [Fact]
    public async Task customers_interested_in_a_product_are_found_by_recent_views_and_any_cart_or_wishlist_add()
    {
        await AppendAsync(
            ProductEvent("e1", "viewer", null, "Product Viewed", "\"p1\"", T0.AddDays(-3)),
            ProductEvent("e2", "old-viewer", null, "Product Viewed", "\"p1\"", T0.AddDays(-60)),
            ProductEvent("e3", "carter", null, "Product Added", "\"p1\"", T0.AddDays(-90)),
            ProductEvent("e4", "fan", null, "Product Added to Wishlist", "\"p1\"", T0.AddDays(-200)),
            ProductEvent("e5", "other", null, "Product Viewed", "\"p2\"", T0),
            ProductEvent("e6", null, "anon-1", "Product Viewed", "1", T0.AddDays(-1)),
            Identify("e7", "joined", "anon-1", T0));
        // Nothing written back yet (checkpoint 0): all of it is read from the log.
        var interested = (await Store.CustomersInterestedInAsync("p1", T0.AddDays(-30), 0, CancellationToken.None)).OrderBy(i => i.CustomerId, StringComparer.Ordinal).ToList();
        Assert.Equal([
            new ProductInterest("carter", null, true, false),
            new ProductInterest("fan", null, false, true),
            new ProductInterest("viewer", T0.AddDays(-3), false, false)], interested);
        // A numeric product id matches its text, and anonymous views count for the customer they were joined to.
        Assert.Equal([new ProductInterest("joined", T0.AddDays(-1), false, false)], await Store.CustomersInterestedInAsync("1", T0.AddDays(-30), 0, CancellationToken.None));
    }

    [Fact]
    public async Task product_interest_written_with_states_is_joined_with_the_log_beyond_the_runtimes_checkpoint()
    {
        var ct = CancellationToken.None;
        static CustomerTouch Touch(string customer, DateTimeOffset? viewed, bool carted = false, bool wished = false) => new(customer, new ProductTouch("p1", viewed, carted, wished));
        await AppendAsync(ProductEvent("e0", "applied", null, "Product Added", "\"p1\"", T0.AddDays(-1)));
        var checkpoint = (await Store.ReadLogAsync(0, 10, ct))[^1].Position;
        await Store.SaveStatesAsync([], [
            Touch("viewer", T0.AddDays(-5)), Touch("viewer", T0.AddDays(-2)),
            Touch("stale", T0.AddDays(-60)),
            Touch("fan", null, wished: true),
            new CustomerTouch("other", new ProductTouch("p2", T0, true, false))], null, T0, ct);
        // A later write-back with an older view and a cart add: the latest view stays, the cart add counts.
        await Store.SaveStatesAsync([], [Touch("viewer", T0.AddDays(-4), carted: true)], null, T0, ct);
        // Past the checkpoint, not yet written back: a fresh view by "stale", a cart add by a newcomer, and
        // "fan" merged into "survivor" (an alias).
        await AppendAsync(
            ProductEvent("e1", "stale", null, "Product Viewed", "\"p1\"", T0.AddDays(-1)),
            ProductEvent("e2", "newcomer", null, "Product Added", "\"p1\"", T0),
            new IncomingEvent("e3", EventType.Alias, null, "survivor", null, "fan", T0, T0, [], "{}"u8.ToArray()));

        var interested = (await Store.CustomersInterestedInAsync("p1", T0.AddDays(-30), checkpoint, ct)).OrderBy(i => i.CustomerId, StringComparer.Ordinal).ToList();

        // "applied" is at or before the checkpoint: the runtime owns it (and, in this test, never wrote it).
        // What "fan" did counts for the customer it was merged into.
        Assert.Equal([
            new ProductInterest("newcomer", null, true, false),
            new ProductInterest("stale", T0.AddDays(-1), false, false),
            new ProductInterest("survivor", null, false, true),
            new ProductInterest("viewer", T0.AddDays(-2), true, false)], interested);
    }

    [Fact]
    public async Task a_coupon_issued_with_an_issue_key_is_the_same_code_when_issued_again()
    {
        await Store.AddCouponCodesAsync("c1", ["A1", "A2"], CancellationToken.None);
        var first = await Store.IssueCouponAsync(new CouponIssue("c1", "u1", null, 5, null, T0, null, "j:gift:1:u1:1:gift"), CancellationToken.None);
        var again = await Store.IssueCouponAsync(new CouponIssue("c1", "u1", null, 5, null, T0, null, "j:gift:1:u1:1:gift"), CancellationToken.None);
        Assert.Equal(first.Code!.Code, again.Code!.Code);
        Assert.Single(await Store.CustomerCouponsAsync("u1", CancellationToken.None));
    }

    [Fact]
    public async Task intents_queued_together_make_one_message_per_idempotency_key()
    {
        Nudge.Engine.Messaging.MessageIntent Intent(string key) => new(key, "u1", "email", "marketing", "welcome", null, null, key);
        Assert.Equal([true, true, false], await Store.EnqueueMessagesAsync([Intent("j:a"), Intent("j:b"), Intent("j:a")], T0, CancellationToken.None));
        Assert.Equal([false, true], await Store.EnqueueMessagesAsync([Intent("j:b"), Intent("j:c")], T0, CancellationToken.None));
        Assert.Equal(["j:a", "j:b", "j:c"], (await Store.ListMessagesAsync("u1", null, null, 10, CancellationToken.None)).Select(m => m.Intent.IdempotencyKey).Order());
    }
}
