using System.Text.Json;
using Nudge.Engine.Definitions;
using Nudge.Engine.Segments;

namespace Nudge.Benchmarks;

/// <summary>The benchmark's definitions: the defaults (9 tag rules, 6 stages, 8 segments) plus 12 more segments — 20 in all.</summary>
internal static class BenchDefinitions
{
    public static readonly string[] Categories = ["母婴", "美妆", "运动", "数码", "食品"];

    public static IEnumerable<(string Id, string Json)> ExtraSegments()
    {
        foreach (var (category, i) in Categories.Select((c, i) => (c, i)))
            yield return ($"viewers-{i}", "{\"id\":\"viewers-" + i + "\",\"when\":{\"event\":\"Product Viewed\",\"where\":{\"category\":\"" + category + "\"},\"within_days\":7,\"count\":{\"gte\":3}}}");
        yield return ("cart-adders", """{"id":"cart-adders","when":{"event":"Product Added","within_days":3}}""");
        yield return ("big-spenders", """{"id":"big-spenders","when":{"stat":"revenue","gt":1000}}""");
        yield return ("frequent", """{"id":"frequent","when":{"stat":"orders","within_days":30,"gte":2}}""");
        yield return ("baby-fans", """{"id":"baby-fans","when":{"tag":"top_category","eq":"母婴"}}""");
        yield return ("lapsing", """{"id":"lapsing","when":{"rfm_segment":["About to Sleep","Need Attention","Hibernating"]}}""");
        yield return ("high-aov", """{"id":"high-aov","when":{"all":[{"stat":"aov","gt":300},{"stat":"orders","gte":2}]}}""");
        yield return ("quiet-buyers", """{"id":"quiet-buyers","when":{"all":[{"stat":"orders","gte":1},{"event":"Product Viewed","within_days":14,"count":{"eq":0}}]}}""");
    }

    public static DefinitionSet Load()
    {
        var defaults = DefaultDefinitions.Load();
        List<DefinitionError> errors = [];
        var extra = ExtraSegments().Select(s =>
        {
            using var doc = JsonDocument.Parse(s.Json);
            return DefinitionParser.Segment(doc.RootElement, errors)!;
        }).ToList();
        if (errors.Count > 0) throw new InvalidOperationException(string.Join("; ", errors));
        return new DefinitionSet(1, defaults.Tags, defaults.Stages, [.. defaults.Segments, .. extra], defaults.Rfm, defaults.Quintiles);
    }
}
