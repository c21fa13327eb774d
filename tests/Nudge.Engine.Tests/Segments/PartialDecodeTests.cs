using Nudge.Engine.Customers;
using Nudge.Engine.Definitions;
using Nudge.Engine.Segments;
using Nudge.Engine.Tests.Customers;

namespace Nudge.Engine.Tests.Segments;

/// <summary>
/// A full re-evaluation decodes only the parts of each customer its segments read. Property: every
/// kind of condition gives the same answer, and the same next change, on a customer decoded with just
/// the parts it declares as on the whole customer — so a condition that reads more than it declares fails here.
/// </summary>
public class PartialDecodeTests
{
    private static readonly DateTimeOffset T0 = History.T0;

    public static TheoryData<string> Conditions()
    {
        var data = new TheoryData<string>();
        foreach (var stat in StatFields.All.Values)
            data.Add(stat.IsText ? $$"""{"stat":"{{stat.Name}}","in":["美妆","运动","b1","b2","email"]}""" : $$"""{"stat":"{{stat.Name}}","gte":1}""");
        data.Add("""{"stat":"orders","within_days":30,"gte":1}""");
        data.Add("""{"stat":"revenue","within_days":60,"gt":100}""");
        data.Add("""{"stat":"top_category","eq":"母婴"}""");
        data.Add("""{"trait":"city","in":["c1","c2"]}""");
        data.Add("""{"trait":"birthday","exists":true}""");
        data.Add("""{"tag":"top_category","eq":"美妆"}""");
        data.Add("""{"stage":["new","active","dormant"]}""");
        data.Add("""{"rfm_segment":["Champions","Hibernating","Lost","New Customers"]}""");
        data.Add("""{"rfm_score":"m","gte":3}""");
        data.Add("""{"rfm_band":"r","in":["≤7","≤30"]}""");
        data.Add("""{"event":"Product Viewed","where":{"category":"母婴"},"within_days":30,"count":{"gte":2}}""");
        data.Add("""{"not":{"event":"Product Added","within_days":14}}""");
        data.Add("""{"any":[{"stat":"cart_value","gt":100},{"all":[{"tag":"top_category"},{"stat":"favourites","gte":1}]}]}""");
        return data;
    }

    [Theory]
    [MemberData(nameof(Conditions))]
    public void a_condition_answers_the_same_on_the_parts_it_reads(string condition)
    {
        var segment = ConditionTests.Segment($$"""{"id":"s","when":{{condition}}}""");
        var defaults = DefaultDefinitions.Load();
        var definitions = new DefinitionSet(1, defaults.Tags, defaults.Stages, [.. defaults.Segments, segment], defaults.Rfm, defaults.Quintiles);
        for (var seed = 1; seed <= 40; seed++)
        {
            var random = new Random(seed);
            var now = T0.AddDays(random.Next(30, 200));
            var state = History.Evaluated(History.Random(random, random.Next(1, 80)).Fold(History.Settings(definitions)), now, definitions);
            var bytes = CustomerStateCodec.Encode(state);

            var whole = new Evaluation(now);
            var expected = segment.When.Evaluate(CustomerStateCodec.Decode(bytes), whole);
            var partial = new Evaluation(now);
            Assert.Equal(expected, segment.When.Evaluate(CustomerStateCodec.Decode(bytes, segment.When.Reads), partial));
            Assert.Equal(whole.NextChange, partial.NextChange);
        }
    }

    [Fact]
    public void the_definitions_evaluate_the_same_on_the_parts_they_declare_as_on_the_whole_customer()
    {
        // What a definition change's sweep relies on: a customer decoded with the parts the whole set
        // reads gets the same changes, tags, memberships and next check as the whole customer.
        var defaults = DefaultDefinitions.Load();
        var extra = Conditions().Cast<object[]>().Select((row, i) => ConditionTests.Segment($$"""{"id":"s{{i}}","when":{{row[0]}}}"""));
        var definitions = new DefinitionSet(1, defaults.Tags, defaults.Stages, [.. defaults.Segments, .. extra], defaults.Rfm, defaults.Quintiles);
        var changed = 0;
        for (var seed = 1; seed <= 60; seed++)
        {
            var random = new Random(seed);
            var then = T0.AddDays(random.Next(30, 200));
            var bytes = CustomerStateCodec.Encode(History.Evaluated(History.Random(random, random.Next(1, 80)).Fold(History.Settings(definitions)), then, definitions));
            var now = then.AddDays(random.Next(0, 90));

            var whole = CustomerStateCodec.Decode(bytes);
            List<CustomerChange> expected = [];
            CustomerEvaluator.Evaluate(whole, definitions, now, expected);
            var partial = CustomerStateCodec.Decode(bytes, definitions.Reads);
            List<CustomerChange> actual = [];
            CustomerEvaluator.Evaluate(partial, definitions, now, actual);

            Assert.Equal(expected, actual);
            Assert.Equal(whole.NextCheckAt, partial.NextCheckAt);
            Assert.Equal(whole.Segments.OrderBy(m => m.Key), partial.Segments.OrderBy(m => m.Key));
            Assert.Equal(whole.Tags.OrderBy(t => t.Key), partial.Tags.OrderBy(t => t.Key));
            if (expected.Count > 0) changed++;
        }

        Assert.True(changed > 10, $"only {changed} customers changed: the property is barely exercised");
    }

    [Fact]
    public void parts_left_out_are_empty_and_the_rest_is_whole()
    {
        var definitions = DefaultDefinitions.Load();
        var state = History.Evaluated(History.Random(new Random(7), 120).Fold(History.Settings(definitions)), T0.AddDays(200), definitions);
        Assert.NotEmpty(state.Orders);
        Assert.NotEmpty(state.Tags);
        var bytes = CustomerStateCodec.Encode(state);

        var partial = CustomerStateCodec.Decode(bytes, StateParts.Orders);
        Assert.Equal(state.Stats.Orders, partial.Stats.Orders);
        Assert.Equal(state.Orders.Count, partial.Orders.Count);
        Assert.Equal(state.Stage, partial.Stage);
        Assert.Equal(state.Rfm, partial.Rfm);
        Assert.Empty(partial.Tags);
        Assert.Empty(partial.Traits);
        Assert.Empty(partial.Trackers);
        Assert.Empty(partial.Segments);
        Assert.Equal(0, partial.Categories.Count);
        Assert.Empty(partial.Journeys);
    }

    [Fact]
    public void a_truncated_state_is_reported_even_where_parts_are_stepped_over()
    {
        var definitions = DefaultDefinitions.Load();
        var state = History.Evaluated(History.Random(new Random(3), 60).Fold(History.Settings(definitions)), T0.AddDays(200), definitions);
        var bytes = CustomerStateCodec.Encode(state);
        Assert.Throws<InvalidDataException>(() => CustomerStateCodec.Decode(bytes.AsSpan(0, bytes.Length / 2), StateParts.None));
    }
}
