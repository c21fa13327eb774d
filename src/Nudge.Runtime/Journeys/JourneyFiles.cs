using System.Text.Json;
using Nudge.Engine.Journeys;
using Nudge.Engine.Segments;
using Nudge.Runtime.Definitions;

namespace Nudge.Runtime.Journeys;

/// <summary>A problem in a journey document, where it is.</summary>
/// <param name="File">The file (or "request body").</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
/// <param name="Path">The JSON path of the part at fault, e.g. <c>$.steps[2].send.template</c>.</param>
/// <param name="Message">What is wrong, and what would be right.</param>
public sealed record JourneyProblem(string File, int Line, int Column, string Path, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{File}:{Line}:{Column}: {Path}: {Message}";
}

/// <summary>A journey document checked: the journey and its JSON, or the problems.</summary>
/// <param name="Journey">The journey, when the document is valid.</param>
/// <param name="Json">The document as JSON (also for a YAML file).</param>
/// <param name="Problems">Everything wrong with it, in document order.</param>
public sealed record CheckedJourney(JourneyDefinition? Journey, string? Json, IReadOnlyList<JourneyProblem> Problems);

/// <summary>
/// Journey documents as files: YAML (or JSON) read and checked whole, each problem with its file,
/// line and column. Used by <c>nudge journeys validate</c>, the journeys folder loaded at start and the API.
/// </summary>
public static class JourneyFiles
{
    /// <summary>The journey files in a folder (.yaml, .yml, .json), in name order.</summary>
    public static IReadOnlyList<string> Find(string directory) =>
        [.. Directory.EnumerateFiles(directory).Where(f => Path.GetExtension(f).ToLowerInvariant() is ".yaml" or ".yml" or ".json").Order(StringComparer.Ordinal)];

    /// <summary>Checks one document; <paramref name="references"/> null skips checking what it refers to.</summary>
    public static CheckedJourney Check(string text, string file, JourneyReferences? references)
    {
        var (json, positions, error) = YamlToJson.ConvertWithPositions(text, file);
        if (error is { } e) return new CheckedJourney(null, null, [new JourneyProblem(file, e.Line, e.Column, "$", e.Message)]);
        using var doc = JsonDocument.Parse(json!);
        List<DefinitionError> errors = [];
        var journey = JourneyParser.Parse(doc.RootElement, 1, references, errors);
        List<JourneyProblem> problems = [.. errors.Select(x =>
        {
            var (line, column) = YamlToJson.Locate(positions, x.Path);
            return new JourneyProblem(file, line, column, x.Path, x.Message);
        }).OrderBy(p => p.Line).ThenBy(p => p.Column)];
        return new CheckedJourney(journey, json, problems);
    }

    /// <summary>Checks every journey file in a folder, and that no two share an id.</summary>
    public static async Task<IReadOnlyList<(string File, CheckedJourney Result)>> CheckDirectoryAsync(string directory, JourneyReferences? references, CancellationToken cancellationToken)
    {
        List<(string, CheckedJourney)> results = [];
        Dictionary<string, string> ids = new(StringComparer.Ordinal);
        foreach (var file in Find(directory))
        {
            var result = Check(await File.ReadAllTextAsync(file, cancellationToken), file, references);
            if (result.Journey is { } j && !ids.TryAdd(j.Id, file))
                result = result with { Journey = null, Problems = [new JourneyProblem(file, 1, 1, "$.id", $"journey id '{j.Id}' is also used by {ids[j.Id]}")] };
            results.Add((file, result));
        }

        return results;
    }
}
