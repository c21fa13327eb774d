using System.Text.Json;
using Nudge.Engine.Customers;
using Nudge.Engine.Definitions;
using Nudge.Engine.Segments;
using Nudge.Engine.Tests.Customers;

namespace Nudge.Engine.Tests.Segments;

public class ConditionTests
{
    private static readonly DateTimeOffset T0 = History.T0;

    internal static SegmentDefinition Segment(string json)
    {
        List<DefinitionError> errors = [];
        using var doc = JsonDocument.Parse(json);
        var segment = DefinitionParser.Segment(doc.RootElement, errors);
        Assert.True(errors.Count == 0, string.Join("; ", errors));
        return segment!;
    }

    private static List<string> Errors(string json)
    {
        List<DefinitionError> errors = [];
        using var doc = JsonDocument.Parse(json);
        Assert.Null(DefinitionParser.Segment(doc.RootElement, errors));
        return [.. errors.Select(e => e.ToString())];
    }

    private static (bool Member, DateTimeOffset? Next) Evaluate(SegmentDefinition segment, History h, DateTimeOffset now)
    {
        var definitions = new DefinitionSet(1, [], [], [segment], Nudge.Engine.Rfm.RfmSettings.Default, Nudge.Engine.Rfm.RfmQuintiles.Initial);
        var s = h.Fold(History.Settings(definitions));
        var ev = new Evaluation(now);
        return (segment.When.Evaluate(s, ev), ev.NextChange);
    }

    [Fact]
    public void viewed_mother_and_baby_three_times_in_seven_days()
    {
        var segment = Segment("""
            {"id":"baby","name":"母婴 browsers","when":{"event":"Product Viewed","where":{"category":"母婴"},"within_days":7,"count":{"gte":3}}}
            """);
        var h = new History()
            .Track("Product Viewed", """{"product_id":"1","category":"母婴"}""", T0)
            .Track("Product Viewed", """{"product_id":"2","category":"数码"}""", T0.AddDays(1))
            .Track("Product Viewed", """{"product_id":"3","category":"母婴"}""", T0.AddDays(2));
        Assert.False(Evaluate(segment, h, T0.AddDays(3)).Member);

        h.Track("Product Viewed", """{"product_id":"4","category":"母婴"}""", T0.AddDays(3));
        var (member, next) = Evaluate(segment, h, T0.AddDays(3));
        Assert.True(member);
        // The first view leaves the window exactly 7 days after it happened.
        Assert.Equal(T0.AddDays(7), next);
        Assert.False(Evaluate(segment, h, T0.AddDays(7)).Member);
    }

    [Fact]
    public void no_order_for_30_days_becomes_true_exactly_on_day_30()
    {
        var segment = Segment("""
            {"id":"lapsed","when":{"all":[{"stat":"orders","gte":1},{"event":"Order Completed","within_days":30,"count":{"eq":0}}]}}
            """);
        var h = new History().Order("a", 10, T0);
        var (member, next) = Evaluate(segment, h, T0.AddDays(1));
        Assert.False(member);
        Assert.Equal(T0.AddDays(30), next);
        Assert.False(Evaluate(segment, h, T0.AddDays(30).AddMilliseconds(-1)).Member);
        Assert.True(Evaluate(segment, h, T0.AddDays(30)).Member);
    }

    [Fact]
    public void and_or_not_nest()
    {
        var segment = Segment("""
            {"id":"x","when":{"any":[{"trait":"city","eq":"杭州"},{"not":{"stat":"orders","gte":1}}]}}
            """);
        Assert.True(Evaluate(segment, new History(), T0).Member);
        Assert.False(Evaluate(segment, new History().Order("a", 1, T0), T0).Member);
        Assert.True(Evaluate(segment, new History().Order("a", 1, T0).Identify("""{"city":"杭州"}""", T0), T0).Member);
    }

    [Theory]
    [InlineData("""{"id":"x","when":{"stat":"ordrs","gte":1}}""", "$.when.stat: unknown stat 'ordrs'")]
    [InlineData("""{"id":"x","when":{"all":[{"stat":"orders"}]}}""", "$.when.all[0]: needs a comparison")]
    [InlineData("""{"id":"x","when":{"all":[{"stat":"orders","gte":"2"}]}}""", "$.when.all[0].gte: must be a number")]
    [InlineData("""{"id":"x","when":{"event":"Order Completed"}}""", "$.when: event 'Order Completed' needs within_days")]
    [InlineData("""{"id":"x","when":{"event":"Order Completed","within_days":7,"count":{"gte":1.5}}}""", "$.when.count: counts are whole numbers")]
    [InlineData("""{"id":"x","when":{"rfm_segment":"Champs"}}""", "$.when.rfm_segment: unknown RFM segment 'Champs'")]
    [InlineData("""{"id":"x","when":{"stat":"days_since_last_order","eq":30}}""", "$.when: 'days_since_last_order' grows continuously")]
    [InlineData("""{"id":"x","when":{"any":[{"tag":"vip","colour":"red"}]}}""", "$.when.any[0].colour: is not allowed here")]
    [InlineData("""{"id":"has space","when":{"all":[]}}""", "$.id: must be 1-64 letters")]
    [InlineData("""{"id":"x"}""", "$.when: is required")]
    public void invalid_definitions_are_rejected_naming_the_part(string json, string expected) =>
        Assert.Contains(Errors(json), e => e.StartsWith(expected, StringComparison.Ordinal));

    [Fact]
    public void every_problem_is_reported_not_only_the_first()
    {
        var errors = Errors("""{"id":"x","when":{"all":[{"stat":"nope","gte":1},{"tag":5}]}}""");
        Assert.Equal(2, errors.Count);
    }
}
