using System.Text.Json;
using Nudge.Engine.Journeys;
using Nudge.Engine.Segments;

namespace Nudge.Engine.Tests.Journeys;

public class JourneyParserTests
{
    private static readonly JourneyReferences References = new(
        new HashSet<string> { "cart-reminder", "cart-coupon", "hook" }, new HashSet<string> { "cart-24h" }, new HashSet<string> { "lapsed" }, new HashSet<string> { "email", "sms", "webhook" });

    internal static JourneyDefinition Parse(string json, int version = 1)
    {
        List<DefinitionError> errors = [];
        using var doc = JsonDocument.Parse(json);
        var journey = JourneyParser.Parse(doc.RootElement, version, References, errors);
        Assert.True(errors.Count == 0, string.Join("; ", errors));
        return journey!;
    }

    private static List<string> Errors(string json)
    {
        List<DefinitionError> errors = [];
        using var doc = JsonDocument.Parse(json);
        Assert.Null(JourneyParser.Parse(doc.RootElement, 1, References, errors));
        return [.. errors.Select(e => e.ToString())];
    }

    [Fact]
    public void a_complete_journey_reads_with_every_step_type()
    {
        var j = Parse("""
            {"id": "all-steps", "trigger": {"event": "Product Added", "where": {"category": "母婴"}}, "reentry": "7d", "holdout_percent": 10,
             "exit_when": [{"event": "Order Completed"}, {"when": {"stat": "cart_items", "eq": 0}, "reason": "cart emptied"}],
             "steps": [
               {"id": "w", "wait": "1h"},
               {"id": "t", "wait": {"until_time": "09:00"}},
               {"id": "d", "wait": {"until_date": "birthday", "offset_days": -1}},
               {"id": "clicked", "wait_for": {"event": "Message Clicked", "within": "48h"}, "then": "route", "timeout": "ab"},
               {"id": "ab", "split": [{"percent": 50, "next": "route", "name": "A"}, {"percent": 50, "next": "send"}]},
               {"id": "route", "branch": [{"when": {"in_segment": "lapsed"}, "next": "send"}, {"when": {"engaged": "clicked"}, "next": "tag"}], "default": "send"},
               {"id": "send", "send": {"channel": "email", "template": "cart-reminder", "coupon": "cart-24h"}},
               {"id": "tag", "update": {"add_tags": ["nudged"], "remove_tags": ["cold"], "set_traits": {"tier": "gold"}}},
               {"id": "c", "coupon": "cart-24h"},
               {"id": "h", "webhook": {"template": "hook"}},
               {"id": "task", "task": {"title": "Call the customer"}},
               {"id": "g", "goal": {"event": "Order Completed", "within": "7d"}},
               {"id": "x", "exit": {"reason": "done"}}
             ]}
            """);
        Assert.Equal(["wait", "wait", "wait", "wait_for", "split", "branch", "send", "update", "coupon", "webhook", "task", "goal", "exit"], j.Steps.Select(s => s.Type));
        Assert.Equal(new Reentry(ReentryKind.Every, TimeSpan.FromDays(7)), j.Reentry);
        Assert.Equal(10, j.HoldoutPercent);
        Assert.Equal(["exit:Order Completed", "cart emptied"], j.ExitWhen.Select(x => x.Reason));
    }

    [Fact]
    public void every_problem_is_reported_with_its_path()
    {
        var errors = Errors("""
            {"id": "broken", "trigger": {"event": "Product Added"},
             "steps": [
               {"id": "a", "wait": {}},
               {"id": "b", "send": {"channel": "email", "template": "nope"}},
               {"id": "c", "branch": [{"when": {"tag": "vip"}, "next": "a"}]},
               {"id": "d", "teleport": {}},
               {"id": "e", "wait_for": {"event": "Message Clicked"}},
               {"id": "f", "split": [{"percent": 50, "next": "a"}, {"percent": 30, "next": "b"}]}
             ]}
            """);
        Assert.Contains("$.steps[0].wait: a wait needs a bound: a duration (1h), until_time, until_date or until", errors);
        Assert.Contains("$.steps[1].send.template: there is no message template 'nope'", errors);
        Assert.Contains("$.steps[2]: a branch needs a default: the step for customers no path matches", errors);
        Assert.Contains(errors, e => e.StartsWith("$.steps[3]: unknown step 'teleport'", StringComparison.Ordinal));
        Assert.Contains("$.steps[4].wait_for: needs within: how long to wait at most, e.g. 48h", errors);
        Assert.Contains("$.steps[5].split: percentages must add up to 100, not 80", errors);
    }

    [Fact]
    public void unreachable_steps_unknown_targets_and_loops_without_a_wait_are_refused()
    {
        var errors = Errors("""
            {"id": "graph", "trigger": {"segment_entered": "lapsed"},
             "steps": [
               {"id": "a", "send": {"channel": "email", "template": "cart-reminder"}, "next": "c"},
               {"id": "b", "send": {"channel": "email", "template": "cart-reminder"}},
               {"id": "c", "branch": [{"when": {"tag": "vip"}, "next": "a"}], "default": "ghost"},
               {"id": "c", "exit": true}
             ]}
            """);
        Assert.Contains("$.steps[3].id: step id 'c' is used twice; step ids must be unique", errors);
        Assert.Contains("$.steps[2]: goes to step 'ghost', which does not exist; steps are: a, b, c", errors);
        Assert.Contains("$.steps[1]: step 'b' is unreachable: no step leads to it", errors);
        Assert.Contains(errors, e => e.Contains("is on a loop without a wait", StringComparison.Ordinal));
    }

    [Fact]
    public void references_to_missing_segments_coupons_and_unconfigured_channels_are_named()
    {
        var errors = Errors("""
            {"id": "refs", "trigger": {"segment_entered": "ghosts"},
             "steps": [{"id": "a", "send": {"channel": "wecom", "template": "cart-coupon", "coupon": "free-money"}}]}
            """);
        Assert.Contains("$.trigger.segment_entered: there is no segment 'ghosts'", errors);
        Assert.Contains("$.steps[0].send.channel: channel 'wecom' is not configured on this engine (configured: email, sms, webhook)", errors);
        Assert.Contains("$.steps[0].send.coupon: there is no coupon campaign 'free-money'", errors);
    }

    [Theory]
    [InlineData("90s", 1.5)]
    [InlineData("30m", 30)]
    [InlineData("1h", 60)]
    [InlineData("3d", 3 * 24 * 60)]
    [InlineData("2w", 14 * 24 * 60)]
    public void durations_read_in_seconds_minutes_hours_days_and_weeks(string text, double minutes) =>
        Assert.Equal(TimeSpan.FromMinutes(minutes), JourneyParser.ParseDuration(text));

    [Theory]
    [InlineData("0m")]
    [InlineData("0.5s")]
    [InlineData("1 fortnight")]
    [InlineData("-1h")]
    [InlineData("20000d")]
    public void nonsense_durations_are_not_durations(string text) => Assert.Null(JourneyParser.ParseDuration(text));
}
