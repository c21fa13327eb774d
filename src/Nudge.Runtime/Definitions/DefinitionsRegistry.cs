using System.Text.Json;
using Nudge.Engine.Customers;
using Nudge.Engine.Definitions;
using Nudge.Engine.Rfm;
using Nudge.Engine.Segments;
using Nudge.Storage;

namespace Nudge.Runtime.Definitions;

/// <summary>
/// The definitions in force, loaded from the store at start (seeded with the defaults on first
/// start) and replaced as a whole when one changes. Stored as JSON documents: one per tag rule and
/// segment, one for the ordered stage list, one for the RFM bands.
/// </summary>
public sealed class DefinitionsRegistry(INudgeStore store, ProductFacts products, RuntimeOptions options)
{
    /// <summary>Kinds of stored definition documents.</summary>
    public const string TagKind = "tag", SegmentKind = "segment", StagesKind = "stages", RfmKind = "rfm";

    /// <summary>Runtime setting holding the RFM quintile cut points as JSON.</summary>
    public const string QuintilesKey = "rfm_quintiles";

    // Swapped as one object so a reader never sees a definition set with another set's fold settings.
    private sealed record Installed(DefinitionSet Set, FoldSettings Fold);

    private Installed _current = new(DefaultDefinitions.Load(), FoldSettings.Plain(options.Currency));
    private IReadOnlyDictionary<(string Kind, string Id), string> _json = new Dictionary<(string, string), string>();

    /// <summary>A stored definition document as JSON, as it was saved; null when there is none.</summary>
    public string? Json(string kind, string id) => Volatile.Read(ref _json).TryGetValue((kind, id), out var json) ? json : null;

    /// <summary>The definitions in force.</summary>
    public DefinitionSet Current => Volatile.Read(ref _current).Set;

    /// <summary>Fold settings for the definitions in force.</summary>
    public FoldSettings Fold => Volatile.Read(ref _current).Fold;

    /// <summary>Raised after the definitions changed.</summary>
    public event Action<DefinitionSet>? Changed;

    /// <summary>Loads from the store, first writing the defaults if the store has never had definitions.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        var (version, stored) = await store.LoadDefinitionsAsync(cancellationToken);
        if (version == 0 && stored.Count == 0)
        {
            await SeedDefaultsAsync(store, cancellationToken);
            (version, stored) = await store.LoadDefinitionsAsync(cancellationToken);
        }

        if (options.DefinitionsFile is { } file)
        {
            await ApplyFileAsync(store, file, cancellationToken);
            (version, stored) = await store.LoadDefinitionsAsync(cancellationToken);
        }

        var quintiles = await store.GetMetaAsync(QuintilesKey, cancellationToken) is { } json
            ? JsonSerializer.Deserialize(json, RuntimeJson.Default.RfmQuintiles) ?? RfmQuintiles.Initial
            : RfmQuintiles.Initial;
        Install(Build(version, stored, quintiles));
        Remember(stored);
    }

    private void Remember(IReadOnlyList<StoredDefinition> stored) =>
        Volatile.Write(ref _json, stored.ToDictionary(d => (d.Kind, d.Id), d => d.Json));

    /// <summary>Builds a definition set from stored documents; a stored document that no longer parses is an error naming it.</summary>
    public static DefinitionSet Build(long version, IReadOnlyList<StoredDefinition> stored, RfmQuintiles quintiles)
    {
        List<DefinitionError> errors = [];
        var defaults = DefaultDefinitions.Load();
        List<TagRule> tags = [];
        List<SegmentDefinition> segments = [];
        var stages = defaults.Stages;
        var rfm = defaults.Rfm;
        foreach (var d in stored)
        {
            using var doc = JsonDocument.Parse(d.Json);
            var path = $"{d.Kind}/{d.Id}";
            switch (d.Kind)
            {
                case TagKind when DefinitionParser.Tag(doc.RootElement, errors, path) is { } tag: tags.Add(tag); break;
                case SegmentKind when DefinitionParser.Segment(doc.RootElement, errors, path) is { } segment: segments.Add(segment); break;
                case StagesKind when DefinitionParser.Stages(doc.RootElement, errors, path) is { } list: stages = list; break;
                case RfmKind when DefinitionParser.Rfm(doc.RootElement, errors, path) is { } bands: rfm = bands; break;
            }
        }

        if (errors.Count > 0) throw new InvalidDataException("Stored definitions are invalid: " + string.Join("; ", errors));
        return new DefinitionSet(version, tags, stages, segments, rfm, quintiles);
    }

    /// <summary>Makes a definition set current.</summary>
    public void Install(DefinitionSet set)
    {
        var fold = new FoldSettings(options.Currency, products.ListedAt, set.TrackersByEvent, set.TagNames);
        Volatile.Write(ref _current, new Installed(set, fold));
        Changed?.Invoke(set);
    }

    /// <summary>Reloads from the store after a change and makes the result current.</summary>
    public async Task<DefinitionSet> ReloadAsync(CancellationToken cancellationToken)
    {
        var (version, stored) = await store.LoadDefinitionsAsync(cancellationToken);
        var set = Build(version, stored, Current.Quintiles);
        Install(set);
        Remember(stored);
        return set;
    }

    /// <summary>Writes the default definitions to a store.</summary>
    public static Task SeedDefaultsAsync(INudgeStore store, CancellationToken cancellationToken) =>
        WriteAsync(store, DefaultDefinitions.Json, DateTimeOffset.UnixEpoch, cancellationToken);

    /// <summary>
    /// Applies a definitions file (JSON, or YAML for .yaml/.yml): every kind it has (rfm, stages, tags, segments) replaces the stored
    /// ones. Nothing is written unless the whole file is valid; the error names file, path and problem.
    /// </summary>
    public static async Task ApplyFileAsync(INudgeStore store, string path, CancellationToken cancellationToken)
    {
        // YAML files are read as the JSON they stand for; both go through the same validation.
        var text = await YamlToJson.ReadFileAsync(path, "definitions", cancellationToken);
        List<DefinitionError> errors = [];
        try
        {
            using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            Validate(doc.RootElement, errors);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}", e);
        }

        if (errors.Count > 0) throw new InvalidDataException($"{path} has invalid definitions:{Environment.NewLine}" + string.Join(Environment.NewLine, errors.Select(e => $"  {e}")));
        await WriteAsync(store, text, DateTimeOffset.UtcNow, cancellationToken);
    }

    private static void Validate(JsonElement root, List<DefinitionError> errors)
    {
        if (root.ValueKind != JsonValueKind.Object) { errors.Add(new DefinitionError("$", "must be an object with any of rfm, stages, tags, segments")); return; }
        foreach (var p in root.EnumerateObject())
        {
            switch (p.Name)
            {
                case "rfm": DefinitionParser.Rfm(p.Value, errors, "$.rfm"); break;
                case "stages": DefinitionParser.Stages(p.Value, errors, "$.stages"); break;
                case "tags" or "segments" when p.Value.ValueKind != JsonValueKind.Array: errors.Add(new DefinitionError($"$.{p.Name}", "must be an array")); break;
                case "tags": foreach (var (t, i) in p.Value.EnumerateArray().Select((t, i) => (t, i))) DefinitionParser.Tag(t, errors, $"$.tags[{i}]"); break;
                case "segments": foreach (var (s, i) in p.Value.EnumerateArray().Select((s, i) => (s, i))) DefinitionParser.Segment(s, errors, $"$.segments[{i}]"); break;
                default: errors.Add(new DefinitionError($"$.{p.Name}", "is not a kind of definition; expected rfm, stages, tags, segments")); break;
            }
        }
    }

    private static async Task WriteAsync(INudgeStore store, string json, DateTimeOffset at, CancellationToken cancellationToken)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        var root = doc.RootElement;
        if (root.TryGetProperty("rfm", out var rfm))
            await store.ReplaceDefinitionsAsync(RfmKind, [new(RfmKind, "default", rfm.GetRawText(), 0, at)], [], true, cancellationToken);
        if (root.TryGetProperty("stages", out var stages))
            await store.ReplaceDefinitionsAsync(StagesKind, [new(StagesKind, "default", stages.GetRawText(), 0, at)], [], true, cancellationToken);
        if (root.TryGetProperty("tags", out var tags))
        {
            await store.ReplaceDefinitionsAsync(TagKind,
                [.. tags.EnumerateArray().Select((t, i) => new StoredDefinition(TagKind, t.GetProperty("name").GetString()!, t.GetRawText(), i, at))], [], true, cancellationToken);
        }

        if (root.TryGetProperty("segments", out var segments))
        {
            await store.ReplaceDefinitionsAsync(SegmentKind,
                [.. segments.EnumerateArray().Select((s, i) => new StoredDefinition(SegmentKind, s.GetProperty("id").GetString()!, s.GetRawText(), i, at))], [], true, cancellationToken);
        }
    }
}
