using System.Text.Json;
using Nudge.Engine.Customers;
using Nudge.Engine.Journeys;

namespace Nudge.Engine.Tests.Journeys;

public class JourneyRunnerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);

    private const string AbandonedCart = """
        {"id": "cart", "trigger": {"event": "Product Added"}, "reentry": "always",
         "exit_when": [{"event": "Order Completed"}],
         "steps": [
           {"id": "wait-1h", "wait": "1h"},
           {"id": "reminder", "send": {"channel": "email", "template": "cart-reminder"}},
           {"id": "wait-24h", "wait": "23h"},
           {"id": "coupon", "send": {"channel": "best", "template": "cart-coupon", "coupon": "cart-24h"}}
         ]}
        """;

    private sealed class Customer(string id, params string[] journeys)
    {
        public CustomerState State { get; } = new(id);
        public JourneyRunner Runner { get; } = new(new JourneySet(journeys.Select(j => JourneyParserTests.Parse(j))), TimeZoneInfo.Utc);
        public JourneyOutput Output { get; } = new();

        private long _position;

        /// <summary>An event at its log position (numbered 1, 2, ... here), applied when it happened.</summary>
        public void Event(string name, DateTimeOffset at, string properties = "{}")
        {
            using var doc = JsonDocument.Parse(properties);
            Runner.OnEvent(State, new JourneyEvent(name, doc.RootElement.Clone(), at, ++_position), at, Output);
        }

        /// <summary>Fires timers the way the pump does: at each due time in turn, up to <paramref name="until"/>.</summary>
        public void RunUntil(DateTimeOffset until)
        {
            while (Runner.NextWake(State, until.AddYears(-5)) is { } wake && wake <= until && State.Journeys.Count > 0)
            {
                var due = State.Journeys.Where(i => i.WakeAt is not null).Min(i => i.WakeAt!.Value);
                if (due > until) break;
                Runner.Advance(State, due, Output);
            }

            Runner.Advance(State, until, Output);
        }

        public List<(string Key, string Template)> Sends => [.. Output.Effects.OfType<SendEffect>().Select(e => (e.Key, e.Intent.TemplateId))];

        public List<string> Ends => [.. Output.Activity.Where(a => a.Kind == ActivityKinds.Ended).Select(a => a.Reason!)];
    }

    [Fact]
    public void abandoned_cart_sends_reminder_after_1_hour_and_coupon_at_24_hours()
    {
        var c = new Customer("c1", AbandonedCart);
        c.Event("Product Added", T0, """{"product_id": "p1", "name": "Stroller"}""");
        Assert.Empty(c.Sends);
        Assert.Equal(T0.AddHours(1), c.Runner.NextWake(c.State, T0));

        c.RunUntil(T0.AddHours(1));
        Assert.Equal([("j:cart:1:c1:e1:reminder", "cart-reminder")], c.Sends);
        c.RunUntil(T0.AddHours(23.9));
        Assert.Single(c.Sends);
        c.RunUntil(T0.AddHours(24));
        Assert.Equal(("j:cart:1:c1:e1:coupon", "cart-coupon"), c.Sends[1]);
        var coupon = c.Output.Effects.OfType<SendEffect>().Last().Intent;
        Assert.Equal("cart-24h", coupon.CouponCampaign);
        Assert.Equal("""{"product_id": "p1", "name": "Stroller"}""", coupon.DataJson);
        Assert.Equal(["completed"], c.Ends);
    }

    [Fact]
    public void an_order_ends_the_abandoned_cart_journey_before_the_coupon()
    {
        var c = new Customer("c1", AbandonedCart);
        c.Event("Product Added", T0);
        c.RunUntil(T0.AddHours(2));
        c.Event("Order Completed", T0.AddHours(3));
        c.RunUntil(T0.AddDays(3));
        Assert.Equal(["reminder"], c.Sends.Select(s => s.Key.Split(':')[^1]));
        Assert.Equal(["exit:Order Completed"], c.Ends);
        Assert.Empty(c.State.Journeys);
    }

    [Fact]
    public void an_event_noticed_after_a_wait_it_outlasted_sees_the_steps_due_before_it_first()
    {
        // A backlog: the order (25 h after the cart) is applied before the timer fired. The reminder
        // and the coupon were due before the order, so they go out, exactly as if the timer had come
        // first; then the order ends the journey.
        Customer Late()
        {
            var c = new Customer("c1", AbandonedCart);
            c.Event("Product Added", T0);
            using var doc = JsonDocument.Parse("{}");
            c.Runner.OnEvent(c.State, new JourneyEvent("Order Completed", doc.RootElement.Clone(), T0.AddHours(25), 2), T0.AddHours(26), c.Output);
            return c;
        }

        var late = Late();
        Assert.Equal(["reminder", "coupon"], late.Sends.Select(s => s.Key.Split(':')[^1]));
        Assert.Equal(["completed"], late.Ends);

        // Only steps due before the event: an order 30 minutes in, noticed late, still ends the journey before the reminder.
        var early = new Customer("c2", AbandonedCart);
        early.Event("Product Added", T0);
        using var order = JsonDocument.Parse("{}");
        early.Runner.OnEvent(early.State, new JourneyEvent("Order Completed", order.RootElement.Clone(), T0.AddMinutes(30), 2), T0.AddHours(3), early.Output);
        Assert.Empty(early.Sends);
        Assert.Equal(["exit:Order Completed"], early.Ends);
    }

    [Fact]
    public void steps_after_a_late_timer_keep_the_schedule_of_the_due_times()
    {
        // The timer is noticed two days late (downtime): both steps go out, and the activity is stamped when each was due.
        var c = new Customer("c1", AbandonedCart);
        c.Event("Product Added", T0);
        c.Runner.Advance(c.State, T0.AddDays(2), c.Output);
        Assert.Equal(2, c.Sends.Count);
        var steps = c.Output.Activity.Where(a => a.Kind == ActivityKinds.Step).Select(a => (a.Step, a.At)).ToList();
        Assert.Contains(("reminder", T0.AddHours(1)), steps);
        Assert.Contains(("coupon", T0.AddHours(24)), steps);
    }

    [Fact]
    public void reentry_once_lets_a_customer_in_one_time_only()
    {
        var c = new Customer("c1", AbandonedCart.Replace("\"always\"", "\"once\"", StringComparison.Ordinal));
        c.Event("Product Added", T0);
        c.RunUntil(T0.AddDays(2));
        c.Event("Product Added", T0.AddDays(3));
        c.RunUntil(T0.AddDays(5));
        Assert.Equal(2, c.Sends.Count);
        Assert.Equal(1, c.State.JourneyEntries["cart"].Entries);
    }

    [Fact]
    public void reentry_every_7_days_waits_a_week_between_entries_and_never_doubles_a_running_instance()
    {
        var c = new Customer("c1", AbandonedCart.Replace("\"always\"", "\"7d\"", StringComparison.Ordinal));
        c.Event("Product Added", T0);
        c.Event("Product Added", T0.AddMinutes(5));
        Assert.Single(c.State.Journeys);
        c.RunUntil(T0.AddDays(2));
        c.Event("Product Added", T0.AddDays(3));
        Assert.Empty(c.State.Journeys);
        c.Event("Product Added", T0.AddDays(7));
        Assert.Single(c.State.Journeys);
        Assert.Equal(2, c.State.Journeys[0].Number);
    }

    [Fact]
    public void events_older_than_a_day_trigger_nothing()
    {
        var c = new Customer("c1", AbandonedCart);
        using var doc = JsonDocument.Parse("{}");
        c.Runner.OnEvent(c.State, new JourneyEvent("Product Added", doc.RootElement, T0), T0.AddDays(2), c.Output);
        Assert.Empty(c.State.Journeys);
    }

    [Fact]
    public void wait_for_a_click_goes_yes_when_it_comes_and_no_when_it_times_out()
    {
        const string journey = """
            {"id": "nudge", "trigger": {"event": "Signed Up"}, "reentry": "always",
             "steps": [
               {"id": "hello", "send": {"channel": "email", "template": "cart-reminder"}},
               {"id": "clicked", "wait_for": {"event": "Message Clicked", "within": "48h"}, "then": "thanks", "timeout": "again"},
               {"id": "again", "send": {"channel": "sms", "template": "cart-reminder"}, "next": "end"},
               {"id": "thanks", "update": {"add_tags": ["engaged"]}},
               {"id": "end", "exit": {"reason": "done"}}
             ]}
            """;
        var yes = new Customer("yes", journey);
        yes.Event("Signed Up", T0);
        yes.Event("Message Clicked", T0.AddHours(5));
        Assert.Equal(["hello"], yes.Sends.Select(s => s.Key.Split(':')[^1]));
        Assert.Contains(yes.Output.Effects, e => e is TagEffect { Tag: "engaged", Value: "true" });

        var no = new Customer("no", journey);
        no.Event("Signed Up", T0);
        no.RunUntil(T0.AddHours(47));
        Assert.Single(no.Sends);
        no.RunUntil(T0.AddHours(48));
        Assert.Equal(["hello", "again"], no.Sends.Select(s => s.Key.Split(':')[^1]));
        Assert.Equal(["done"], no.Ends);
    }

    [Fact]
    public void a_branch_on_engagement_sees_clicks_on_this_instances_own_messages_only()
    {
        const string journey = """
            {"id": "eng", "trigger": {"event": "Signed Up"},
             "steps": [
               {"id": "hello", "send": {"channel": "email", "template": "cart-reminder"}},
               {"id": "pause", "wait": "1d"},
               {"id": "route", "branch": [{"when": {"engaged": "clicked", "step": "hello"}, "next": "vip"}], "default": "plain"},
               {"id": "vip", "update": {"add_tags": ["clicker"]}, "next": "plain"},
               {"id": "plain", "exit": true}
             ]}
            """;
        var c = new Customer("c1", journey);
        c.Event("Signed Up", T0);
        // A click on some other message counts for nothing.
        c.Event("Message Clicked", T0.AddHours(1), """{"source": "api"}""");
        c.RunUntil(T0.AddDays(1));
        Assert.DoesNotContain(c.Output.Effects, e => e is TagEffect);

        var d = new Customer("c2", journey);
        d.Event("Signed Up", T0);
        d.Event("Message Clicked", T0.AddHours(1), """{"source": "j:eng:1:c2:e1:hello"}""");
        d.RunUntil(T0.AddDays(1));
        Assert.Contains(d.Output.Effects, e => e is TagEffect { Tag: "clicker" });
    }

    [Fact]
    public void a_split_sends_each_customer_down_a_stable_path_in_about_the_given_shares()
    {
        const string journey = """
            {"id": "ab", "trigger": {"event": "Signed Up"},
             "steps": [
               {"id": "pick", "split": [{"percent": 30, "next": "a", "name": "A"}, {"percent": 70, "next": "b", "name": "B"}]},
               {"id": "a", "send": {"channel": "email", "template": "cart-reminder"}, "next": "end"},
               {"id": "b", "send": {"channel": "email", "template": "cart-coupon"}},
               {"id": "end", "exit": true}
             ]}
            """;
        var a = 0;
        for (var i = 0; i < 2000; i++)
        {
            var c = new Customer($"c{i}", journey);
            c.Event("Signed Up", T0);
            var template = Assert.Single(c.Sends).Template;
            if (template == "cart-reminder") a++;
            Assert.Equal(JourneyRunner.Bucket($"c{i}", "ab", "pick") < 30 ? "cart-reminder" : "cart-coupon", template);
        }

        Assert.InRange(a, 2000 * 0.25, 2000 * 0.35);
    }

    [Fact]
    public void a_holdout_keeps_a_stable_share_out_and_records_them()
    {
        var journey = AbandonedCart.Replace("\"reentry\": \"always\",", "\"reentry\": \"always\", \"holdout_percent\": 20,", StringComparison.Ordinal);
        var held = 0;
        for (var i = 0; i < 1000; i++)
        {
            var c = new Customer($"h{i}", journey);
            c.Event("Product Added", T0);
            var inHoldout = c.Output.Activity.Any(a => a.Kind == ActivityKinds.Holdout);
            Assert.Equal(inHoldout, c.State.Journeys.Count == 0);
            Assert.Equal(JourneyRunner.Bucket($"h{i}", "cart", "holdout") < 20, inHoldout);
            if (inHoldout) held++;
        }

        Assert.InRange(held, 150, 250);
    }

    [Fact]
    public void birthday_journey_runs_on_the_day_in_the_customers_time_zone()
    {
        const string journey = """
            {"id": "birthday", "trigger": {"date": "birthday", "at": "09:00"},
             "steps": [{"id": "gift", "send": {"channel": "email", "template": "cart-coupon", "coupon": "cart-24h"}}]}
            """;
        var c = new Customer("c1", journey);
        c.State.Traits["birthday"] = new TraitValue("\"1990-03-05\"", T0);
        c.State.Traits["timezone"] = new TraitValue("\"Asia/Shanghai\"", T0);
        // 09:00 in Shanghai on 5 March is 01:00 UTC.
        var due = new DateTimeOffset(2026, 3, 5, 1, 0, 0, TimeSpan.Zero);
        Assert.Equal(due, c.Runner.NextWake(c.State, T0));
        c.Runner.Advance(c.State, due.AddMinutes(-1), c.Output);
        Assert.Empty(c.Sends);
        c.Runner.Advance(c.State, due, c.Output);
        c.Runner.Advance(c.State, due.AddHours(5), c.Output);
        Assert.Equal(["j:birthday:1:c1:d1772672400000:gift"], c.Sends.Select(s => s.Key));
        // Next year's birthday lets the customer in again, once-only re-entry notwithstanding.
        Assert.Equal(due.AddYears(1), c.Runner.NextWake(c.State, due.AddHours(5)));
        c.Runner.Advance(c.State, due.AddYears(1), c.Output);
        Assert.Equal(2, c.Sends.Count);
    }

    [Fact]
    public void an_edit_that_migrates_moves_running_instances_to_the_new_version_at_the_same_step()
    {
        var v1 = JourneyParserTests.Parse(AbandonedCart);
        var c = new Customer("c1", AbandonedCart);
        c.Event("Product Added", T0);
        var v2 = JourneyParserTests.Parse(AbandonedCart.Replace("\"reentry\": \"always\",", "\"reentry\": \"always\", \"migrate\": true,", StringComparison.Ordinal)
            .Replace("cart-reminder", "cart-coupon", StringComparison.Ordinal), version: 2);
        var runner = new JourneyRunner(new JourneySet([v1, v2]), TimeZoneInfo.Utc);
        runner.Advance(c.State, T0.AddHours(1), c.Output);
        Assert.Equal([("j:cart:2:c1:e1:reminder", "cart-coupon")], c.Sends);

        // Without migrate, the instance finishes on its own version.
        var d = new Customer("c2", AbandonedCart);
        d.Event("Product Added", T0);
        var v2Plain = JourneyParserTests.Parse(AbandonedCart.Replace("cart-reminder", "cart-coupon", StringComparison.Ordinal), version: 2);
        new JourneyRunner(new JourneySet([v1, v2Plain]), TimeZoneInfo.Utc).Advance(d.State, T0.AddHours(1), d.Output);
        Assert.Equal([("j:cart:1:c2:e1:reminder", "cart-reminder")], d.Sends);
    }

    [Fact]
    public void instances_survive_encoding_with_their_step_timer_and_counts()
    {
        var c = new Customer("c1", AbandonedCart);
        c.Event("Product Added", T0, """{"product_id": "p1"}""");
        c.State.Journeys[0].Counts["@opened"] = 2;
        var decoded = CustomerStateCodec.Decode(CustomerStateCodec.Encode(c.State));
        var i = Assert.Single(decoded.Journeys);
        Assert.Equal(("cart", 1, "wait-1h", T0.AddHours(1), """{"product_id": "p1"}"""), (i.JourneyId, i.Version, i.StepId, i.WakeAt!.Value, i.TriggerJson));
        Assert.Equal(2, i.Counts["@opened"]);
        Assert.Equal(1, decoded.InstancesStarted);
        Assert.Equal(1, decoded.JourneyEntries["cart"].Entries);
    }

    [Fact]
    public void wait_until_a_time_of_day_waits_for_the_next_one_in_the_customers_zone()
    {
        const string journey = """
            {"id": "morning", "trigger": {"event": "Signed Up"},
             "steps": [{"id": "nine", "wait": {"until_time": "09:00"}}, {"id": "hello", "send": {"channel": "email", "template": "cart-reminder"}}]}
            """;
        var c = new Customer("c1", journey);
        c.State.Traits["timezone"] = new TraitValue("\"America/New_York\"", T0);
        // 10:00 UTC on 2 March is 05:00 in New York: 09:00 there is 14:00 UTC the same day.
        c.Event("Signed Up", T0);
        c.RunUntil(T0.AddHours(3.9));
        Assert.Empty(c.Sends);
        c.RunUntil(T0.AddHours(4));
        Assert.Single(c.Sends);
        Assert.Contains(c.Output.Activity, a => a.Step == "hello" && a.At == T0.AddHours(4));
    }

    [Fact]
    public void wait_until_a_date_trait_waits_for_it_and_a_past_date_does_not_hold_the_instance()
    {
        const string journey = """
            {"id": "before-anniversary", "trigger": {"event": "Signed Up"}, "reentry": "always",
             "steps": [{"id": "wait", "wait": {"until_date": "anniversary", "offset_days": -2, "at": "10:00"}},
                       {"id": "hello", "send": {"channel": "email", "template": "cart-reminder"}}]}
            """;
        var c = new Customer("c1", journey);
        c.State.Traits["anniversary"] = new TraitValue("\"2020-03-20\"", T0);
        c.Event("Signed Up", T0);
        Assert.Equal(new DateTimeOffset(2026, 3, 18, 10, 0, 0, TimeSpan.Zero), c.State.Journeys[0].WakeAt);
        c.RunUntil(new DateTimeOffset(2026, 3, 18, 10, 0, 0, TimeSpan.Zero));
        Assert.Single(c.Sends);

        var none = new Customer("c2", journey);
        none.Event("Signed Up", T0);
        Assert.Single(none.Sends);
    }

    [Fact]
    public void a_branch_counts_events_since_entry_and_tests_segment_membership()
    {
        const string journey = """
            {"id": "looks", "trigger": {"event": "Signed Up"}, "reentry": "always",
             "steps": [
               {"id": "pause", "wait": "1d"},
               {"id": "route", "branch": [
                  {"when": {"since_entry": "Product Viewed", "where": {"category": "美妆"}, "count": {"gte": 2}}, "next": "beauty"},
                  {"when": {"in_segment": "lapsed"}, "next": "lapsed"}], "default": "plain"},
               {"id": "beauty", "send": {"channel": "email", "template": "cart-reminder"}, "next": "end"},
               {"id": "lapsed", "send": {"channel": "email", "template": "cart-coupon"}, "next": "end"},
               {"id": "plain", "exit": {"reason": "plain"}},
               {"id": "end", "exit": true}
             ]}
            """;
        var viewer = new Customer("v", journey);
        viewer.Event("Product Viewed", T0.AddMinutes(-5), """{"category":"美妆"}""");
        viewer.Event("Signed Up", T0);
        viewer.Event("Product Viewed", T0.AddHours(1), """{"category":"美妆"}""");
        viewer.Event("Product Viewed", T0.AddHours(2), """{"products":[{"category":"美妆"}]}""");
        viewer.RunUntil(T0.AddDays(1));
        Assert.Equal(["beauty"], viewer.Sends.Select(s => s.Key.Split(':')[^1]));

        var once = new Customer("o", journey);
        once.Event("Signed Up", T0);
        once.Event("Product Viewed", T0.AddHours(1), """{"category":"美妆"}""");
        once.State.Segments["lapsed"] = T0;
        once.RunUntil(T0.AddDays(1));
        Assert.Equal(["lapsed"], once.Sends.Select(s => s.Key.Split(':')[^1]));

        var neither = new Customer("n", journey);
        neither.Event("Signed Up", T0);
        neither.RunUntil(T0.AddDays(1));
        Assert.Equal(["plain"], neither.Ends);
    }

    [Fact]
    public void a_goal_reached_within_its_bound_ends_the_instance_as_converted_and_otherwise_goes_on()
    {
        const string journey = """
            {"id": "goal", "trigger": {"event": "Signed Up"}, "reentry": "always",
             "steps": [{"id": "hello", "send": {"channel": "email", "template": "cart-reminder"}},
                       {"id": "bought", "goal": {"event": "Order Completed", "within": "3d"}},
                       {"id": "again", "send": {"channel": "email", "template": "cart-coupon"}}]}
            """;
        var converts = new Customer("c1", journey);
        converts.Event("Signed Up", T0);
        converts.Event("Order Completed", T0.AddDays(2));
        converts.RunUntil(T0.AddDays(5));
        Assert.Equal(["goal"], converts.Ends);
        Assert.Single(converts.Sends);

        var not = new Customer("c2", journey);
        not.Event("Signed Up", T0);
        not.RunUntil(T0.AddDays(3));
        Assert.Equal(["completed"], not.Ends);
        Assert.Equal(2, not.Sends.Count);
    }

    [Fact]
    public void coupon_webhook_task_and_trait_steps_produce_effects_keyed_by_their_step()
    {
        const string journey = """
            {"id": "acts", "trigger": {"event": "Signed Up"},
             "steps": [{"id": "gift", "coupon": "cart-24h"}, {"id": "crm", "webhook": {"template": "hook"}},
                       {"id": "call", "task": {"title": "Call", "note": "Be nice", "queue": "vip"}},
                       {"id": "mark", "update": {"set_traits": {"tier": "gold"}, "remove_tags": ["cold"]}}]}
            """;
        var c = new Customer("c1", journey);
        c.Event("Signed Up", T0, """{"source":"app"}""");
        Assert.Equal(new CouponEffect("j:acts:1:c1:e1:gift", "cart-24h"), c.Output.Effects[0]);
        var hook = Assert.IsType<SendEffect>(c.Output.Effects[1]).Intent;
        Assert.Equal(("webhook", "transactional", "hook", """{"source":"app"}"""), (hook.Channel, hook.Topic, hook.TemplateId, hook.DataJson));
        Assert.Equal(new TaskEffect("j:acts:1:c1:e1:call", "acts", "call", "Call", "Be nice", "vip", """{"source":"app"}"""), c.Output.Effects[2]);
        Assert.Equal(new TagEffect("j:acts:1:c1:e1:mark:-cold", "cold", null), c.Output.Effects[3]);
        Assert.Equal(new TraitsEffect("j:acts:1:c1:e1:mark:traits", """{"tier": "gold"}"""), c.Output.Effects[4]);
    }

    [Fact]
    public void tag_added_segment_left_and_stage_changed_triggers_let_the_customer_in_on_the_matching_change_only()
    {
        var tag = new Customer("c1", """{"id": "t", "trigger": {"tag_added": "vip", "value": "gold"}, "steps": [{"id": "s", "send": {"channel": "email", "template": "cart-reminder"}}]}""");
        tag.Runner.OnChanges(tag.State, [new CustomerChange(ChangeKinds.TagAdded, "vip", "silver", null, T0)], T0, tag.Output);
        Assert.Empty(tag.Sends);
        tag.Runner.OnChanges(tag.State, [new CustomerChange(ChangeKinds.TagChanged, "vip", "gold", "silver", T0)], T0, tag.Output);
        Assert.Single(tag.Sends);

        var left = new Customer("c2", """{"id": "l", "trigger": {"segment_left": "lapsed"}, "steps": [{"id": "s", "send": {"channel": "email", "template": "cart-reminder"}}]}""");
        left.Runner.OnChanges(left.State, [new CustomerChange(ChangeKinds.SegmentEntered, "lapsed", null, null, T0)], T0, left.Output);
        Assert.Empty(left.Sends);
        left.Runner.OnChanges(left.State, [new CustomerChange(ChangeKinds.SegmentLeft, "lapsed", null, null, T0)], T0, left.Output);
        Assert.Single(left.Sends);

        var stage = new Customer("c3", """{"id": "g", "trigger": {"stage_changed": "any"}, "reentry": "always", "steps": [{"id": "s", "send": {"channel": "email", "template": "cart-reminder"}}]}""");
        stage.Runner.OnChanges(stage.State, [new CustomerChange(ChangeKinds.StageChanged, "stage", "active", "new", T0)], T0, stage.Output);
        stage.Runner.OnChanges(stage.State, [new CustomerChange(ChangeKinds.StageChanged, "stage", null, "active", T0.AddDays(1))], T0.AddDays(1), stage.Output);
        Assert.Single(stage.Sends);
    }

    [Fact]
    public void a_weekly_schedule_lets_each_customer_in_once_per_occurrence_and_only_when_they_meet_its_condition()
    {
        const string journey = """
            {"id": "weekly", "trigger": {"schedule": {"at": "2026-03-02T10:00:00Z", "every": "1w", "until": "2026-03-20T00:00:00Z", "when": {"tag": "vip"}}},
             "steps": [{"id": "news", "send": {"channel": "email", "template": "cart-reminder"}}]}
            """;
        var schedule = (ScheduleTrigger)JourneyParserTests.Parse(journey).Trigger;
        Assert.Equal([T0, T0.AddDays(7), T0.AddDays(14)], new[] { schedule.NextAfter(T0.AddTicks(-1)), schedule.NextAfter(T0), schedule.NextAfter(T0.AddDays(7)) });
        Assert.Null(schedule.NextAfter(T0.AddDays(14)));
        Assert.Equal(T0.AddDays(7), schedule.LatestDue(T0.AddDays(9)));

        var vip = new Customer("c1", journey);
        vip.State.Tags["vip"] = new TagValue("true", T0, true);
        vip.Runner.OnSchedule(vip.State, "weekly", T0, T0, vip.Output);
        vip.Runner.OnSchedule(vip.State, "weekly", T0, T0.AddMinutes(5), vip.Output);
        vip.Runner.OnSchedule(vip.State, "weekly", T0.AddDays(7), T0.AddDays(7), vip.Output);
        Assert.Equal([$"j:weekly:1:c1:s{T0.ToUnixTimeMilliseconds()}:news", $"j:weekly:1:c1:s{T0.AddDays(7).ToUnixTimeMilliseconds()}:news"], vip.Sends.Select(s => s.Key));

        var other = new Customer("c2", journey);
        other.Runner.OnSchedule(other.State, "weekly", T0, T0, other.Output);
        Assert.Empty(other.Sends);
    }

    [Fact]
    public void a_step_passed_again_on_a_loop_sends_again_under_its_own_key()
    {
        const string journey = """
            {"id": "nag", "trigger": {"event": "Signed Up"},
             "steps": [
               {"id": "remind", "send": {"channel": "email", "template": "cart-reminder"}},
               {"id": "pause", "wait": "1d"},
               {"id": "again", "branch": [{"when": {"since_entry": "Order Completed", "count": {"eq": 0}}, "next": "remind"}], "default": "done"},
               {"id": "done", "exit": true}
             ]}
            """;
        var c = new Customer("c1", journey);
        c.Event("Signed Up", T0);
        c.RunUntil(T0.AddDays(1.5));
        c.Event("Order Completed", T0.AddDays(1.5));
        c.RunUntil(T0.AddDays(5));
        Assert.Equal(["j:nag:1:c1:e1:remind", "j:nag:1:c1:e1:remind:2"], c.Sends.Select(s => s.Key));
    }

    [Fact]
    public void events_applied_late_in_one_batch_count_at_the_time_they_happened()
    {
        const string journey = """
            {"id": "buy", "trigger": {"event": "Product Added"},
             "steps": [{"id": "bought", "goal": {"event": "Order Completed", "within": "1h"}}, {"id": "nudge", "send": {"channel": "email", "template": "cart-reminder"}}]}
            """;
        // Both events reach the engine a minute later, in one round: the order still came within the hour of the add.
        var c = new Customer("c1", journey);
        using var added = JsonDocument.Parse("{}");
        c.Runner.OnEvent(c.State, new JourneyEvent("Product Added", added.RootElement, T0, 1), T0.AddMinutes(1), c.Output);
        c.Runner.OnEvent(c.State, new JourneyEvent("Order Completed", added.RootElement, T0.AddSeconds(1), 2), T0.AddMinutes(1), c.Output);
        Assert.Equal(["goal"], c.Ends);
        Assert.Empty(c.Sends);
        Assert.Contains(c.Output.Activity, a => a.Kind == ActivityKinds.Entered && a.At == T0);

        // An order after the bound, applied before the timer fired, is not the goal.
        var late = new Customer("c2", journey);
        late.Runner.OnEvent(late.State, new JourneyEvent("Product Added", added.RootElement, T0, 1), T0, late.Output);
        late.Runner.OnEvent(late.State, new JourneyEvent("Order Completed", added.RootElement, T0.AddHours(2), 2), T0.AddHours(2), late.Output);
        late.Runner.Advance(late.State, T0.AddHours(2), late.Output);
        Assert.Equal(["nudge"], late.Sends.Select(s => s.Key.Split(':')[^1]));
    }

    [Theory]
    [InlineData("2020-12-30", 7, "2027-01-03", "2027-01-06")]
    [InlineData("2020-01-01", -1, "2026-12-30", "2026-12-31")]
    public void a_yearly_date_shifted_into_another_year_is_found_on_the_right_day(string date, int offset, string today, string expected)
    {
        var customer = new CustomerState("c1");
        customer.Traits["membership_date"] = new TraitValue($"\"{date}\"", T0);
        var now = DateTimeOffset.Parse(today + "T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var (last, next) = LocalTime.Occurrences(new DateSource("membership_date", false, offset, new TimeOfDay(9, 0), true), customer, TimeZoneInfo.Utc, now);
        Assert.Equal(DateTimeOffset.Parse(expected + "T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture), next);
        Assert.True(last < now && next > now);
    }
}
