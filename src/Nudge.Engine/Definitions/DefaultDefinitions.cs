using System.Text.Json;
using Nudge.Engine.Rfm;
using Nudge.Engine.Segments;

namespace Nudge.Engine.Definitions;

/// <summary>
/// The definitions a new shop starts with (defaults.json, embedded): the seed 002 RFM bands, the seed
/// 004 lifecycle stages, the four kinds of tags from the seeds and a handful of useful segments.
/// </summary>
public static class DefaultDefinitions
{
    /// <summary>The defaults as JSON, as a shop would edit them.</summary>
    public static string Json { get; } = ReadResource();

    private static readonly Lazy<DefinitionSet> Parsed = new(Parse);

    /// <summary>The defaults parsed (once; a definition set is immutable), with version 0 and the initial quintile cut points.</summary>
    public static DefinitionSet Load() => Parsed.Value;

    private static DefinitionSet Parse()
    {
        using var doc = JsonDocument.Parse(Json);
        var root = doc.RootElement;
        List<DefinitionError> errors = [];
        var rfm = DefinitionParser.Rfm(root.GetProperty("rfm"), errors, "$.rfm");
        var stages = DefinitionParser.Stages(root.GetProperty("stages"), errors, "$.stages");
        var tags = root.GetProperty("tags").EnumerateArray().Select((t, i) => DefinitionParser.Tag(t, errors, $"$.tags[{i}]")).ToList();
        var segments = root.GetProperty("segments").EnumerateArray().Select((s, i) => DefinitionParser.Segment(s, errors, $"$.segments[{i}]")).ToList();
        if (errors.Count > 0) throw new InvalidDataException("Built-in definitions are invalid: " + string.Join("; ", errors));
        return new DefinitionSet(0, [.. tags.OfType<Definitions.TagRule>()], stages!, [.. segments.OfType<SegmentDefinition>()], rfm!, RfmQuintiles.Initial);
    }

    private static string ReadResource()
    {
        using var stream = typeof(DefaultDefinitions).Assembly.GetManifestResourceStream("Nudge.Engine.Definitions.defaults.json")
            ?? throw new InvalidOperationException("defaults.json is not embedded in Nudge.Engine.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
