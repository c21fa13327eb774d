using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Nudge.Engine.Segments;
using Nudge.Runtime.Definitions;
using Nudge.Storage;

namespace Nudge.Server.Api;

/// <summary>
/// Saving a definition: store it, make the new set current, and re-evaluate every customer in the
/// background. Invalid definitions never reach the store; the answer lists every problem by path.
/// </summary>
public sealed class DefinitionChanges(INudgeStore store, DefinitionsRegistry registry, DefinitionSweep sweep, TimeProvider time)
{
    public async Task<long> SaveAsync(string kind, string id, string json, CancellationToken cancellationToken)
    {
        await store.ReplaceDefinitionsAsync(kind, [new StoredDefinition(kind, id, json, Ordinal(kind, id), time.GetUtcNow())], [], replaceKind: false, cancellationToken);
        return await ApplyAsync(kind, id, cancellationToken);
    }

    public async Task<long> DeleteAsync(string kind, string id, CancellationToken cancellationToken)
    {
        await store.ReplaceDefinitionsAsync(kind, [], [id], replaceKind: false, cancellationToken);
        return await ApplyAsync(kind, id, cancellationToken);
    }

    private async Task<long> ApplyAsync(string kind, string id, CancellationToken cancellationToken)
    {
        var set = await registry.ReloadAsync(cancellationToken);
        // A segment's change only touches who is in that segment; anything else may touch everyone.
        sweep.Start(kind == DefinitionsRegistry.SegmentKind ? id : null);
        return set.Version;
    }

    // New definitions go last; an existing one keeps its place.
    private int Ordinal(string kind, string id) => kind switch
    {
        DefinitionsRegistry.SegmentKind => IndexOrEnd(registry.Current.Segments.Select(s => s.Id), id),
        DefinitionsRegistry.TagKind => IndexOrEnd(registry.Current.Tags.Select(t => t.Name), id),
        _ => 0,
    };

    private static int IndexOrEnd(IEnumerable<string> ids, string id)
    {
        var list = ids.ToList();
        var i = list.IndexOf(id);
        return i >= 0 ? i : list.Count;
    }

    /// <summary>The body with its id field set to the id from the URL; a different id in the body is an error.</summary>
    public static (string? Json, ProblemHttpResult? Problem) WithId(JsonElement body, string field, string id)
    {
        if (body.ValueKind != JsonValueKind.Object) return (null, Invalid([new DefinitionError("$", "must be a JSON object")]));
        if (body.TryGetProperty(field, out var given) && (given.ValueKind != JsonValueKind.String || given.GetString() != id))
            return (null, Invalid([new DefinitionError($"$.{field}", $"must match the {field} in the URL ('{id}') or be left out")]));
        var node = JsonNode.Parse(body.GetRawText())!.AsObject();
        node[field] = id;
        return (node.ToJsonString(), null);
    }

    public static ProblemHttpResult Invalid(IReadOnlyList<DefinitionError> errors) => Problems.BadRequest(
        "Invalid definition.",
        string.Join("; ", errors.Select(e => e.ToString())),
        new Dictionary<string, object?> { ["errors"] = errors.Select(e => new Dictionary<string, string> { ["path"] = e.Path, ["message"] = e.Message }).ToList() });
}
