using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Nudge.Engine.Definitions;
using Nudge.Engine.Segments;
using Nudge.Runtime.Definitions;
using Nudge.Runtime.Segments;
using Nudge.Storage;

namespace Nudge.Server.Api;

public static class SegmentsApi
{
    private const int MaxPage = 1000;
    private const int PreviewSample = 20;

    public static RouteGroupBuilder MapSegmentsApi(this RouteGroupBuilder api)
    {
        var segments = api.MapGroup("/segments").WithTags("Segments");
        segments.MapGet("/", ListAsync).WithSummary("Every segment with its member count");
        segments.MapGet("/{id}", GetAsync).WithSummary("One segment, its member count and the progress of its evaluation");
        segments.MapPut("/{id}", PutAsync)
            .WithSummary("Creates or updates a segment")
            .WithDescription("Body: `{\"name\", \"description\", \"when\": condition}` — see docs/segments.md. Every customer is re-evaluated in the background; entering and leaving are recorded as changes.");
        segments.MapDelete("/{id}", DeleteAsync).WithSummary("Deletes a segment; its members leave it");
        segments.MapPost("/preview", PreviewAsync)
            .WithSummary("Counts the customers a definition would hold, with a sample, without saving it");
        segments.MapGet("/{id}/members", MembersAsync).WithSummary("Members ordered by customer id, paged: pass `next` as `after`");
        segments.MapGet("/{id}/members.csv", ExportAsync).WithSummary("All members as CSV (customer_id, since)");
        return api;
    }

    private static async Task<Ok<List<SegmentView>>> ListAsync(DefinitionsRegistry registry, INudgeStore store, CancellationToken cancellationToken)
    {
        List<SegmentView> views = [];
        foreach (var s in registry.Current.Segments) views.Add(await ViewAsync(s, registry, store, null, cancellationToken));
        return TypedResults.Ok(views);
    }

    private static async Task<Results<Ok<SegmentView>, ProblemHttpResult>> GetAsync(string id, DefinitionsRegistry registry, DefinitionSweep sweep, INudgeStore store, CancellationToken cancellationToken) =>
        Find(registry, id) is { } segment ? TypedResults.Ok(await ViewAsync(segment, registry, store, sweep.Progress, cancellationToken)) : NoSegment(id);

    private static async Task<Results<Ok<SegmentView>, ProblemHttpResult>> PutAsync(
        string id, JsonElement body, DefinitionChanges changes, DefinitionsRegistry registry, DefinitionSweep sweep, INudgeStore store, CancellationToken cancellationToken)
    {
        if (!DefinitionParser.IsValidId(id)) return DefinitionChanges.Invalid([new DefinitionError("id", $"'{id}' is not a segment id: use 1-64 letters, digits, - or _")]);
        var (json, problem) = DefinitionChanges.WithId(body, "id", id);
        if (problem is not null) return problem;
        List<DefinitionError> errors = [];
        using var doc = JsonDocument.Parse(json!);
        if (DefinitionParser.Segment(doc.RootElement, errors) is null) return DefinitionChanges.Invalid(errors);
        await changes.SaveAsync(DefinitionsRegistry.SegmentKind, id, json!, cancellationToken);
        return TypedResults.Ok(await ViewAsync(Find(registry, id)!, registry, store, sweep.Progress, cancellationToken));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, DefinitionChanges changes, DefinitionsRegistry registry, CancellationToken cancellationToken)
    {
        if (Find(registry, id) is null) return NoSegment(id);
        await changes.DeleteAsync(DefinitionsRegistry.SegmentKind, id, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<SegmentPreview>, ProblemHttpResult>> PreviewAsync(
        JsonElement body, DefinitionsRegistry registry, INudgeStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var (json, problem) = body.ValueKind == JsonValueKind.Object && !body.TryGetProperty("id", out _)
            ? DefinitionChanges.WithId(body, "id", "preview") : (body.GetRawText(), null);
        if (problem is not null) return problem;
        List<DefinitionError> errors = [];
        using var doc = JsonDocument.Parse(json!);
        if (DefinitionParser.Segment(doc.RootElement, errors) is not { } segment) return DefinitionChanges.Invalid(errors);
        return TypedResults.Ok(await SegmentEvaluation.PreviewAsync(store, registry.Current, segment, time.GetUtcNow(), PreviewSample, cancellationToken));
    }

    private static async Task<Results<Ok<MemberPage>, ProblemHttpResult>> MembersAsync(
        string id, DefinitionsRegistry registry, INudgeStore store, CancellationToken cancellationToken, string? after = null, int limit = 100)
    {
        if (limit is < 1 or > MaxPage) return Problems.BadRequest("Invalid query.", $"limit must be between 1 and {MaxPage}.");
        if (Find(registry, id) is null) return NoSegment(id);
        var members = await store.SegmentMembersAsync(id, after, limit, cancellationToken);
        return TypedResults.Ok(new MemberPage([.. members.Select(m => new MemberView(m.CustomerId, m.Since))], members.Count == limit ? members[^1].CustomerId : null));
    }

    private static async Task<IResult> ExportAsync(string id, DefinitionsRegistry registry, INudgeStore store, HttpResponse response, CancellationToken cancellationToken)
    {
        if (Find(registry, id) is null) return NoSegment(id);
        response.ContentType = "text/csv; charset=utf-8";
        response.Headers.ContentDisposition = $"attachment; filename=\"{id}-members.csv\"";
        await response.WriteAsync("customer_id,since\n", cancellationToken);
        string? after = null;
        while (true)
        {
            var page = await store.SegmentMembersAsync(id, after, MaxPage, cancellationToken);
            var text = new StringBuilder();
            foreach (var m in page) text.Append(Csv(m.CustomerId)).Append(',').Append(m.Since.ToString("O", CultureInfo.InvariantCulture)).Append('\n');
            await response.WriteAsync(text.ToString(), cancellationToken);
            if (page.Count < MaxPage) break;
            after = page[^1].CustomerId;
        }

        return Results.Empty;
    }

    private static string Csv(string value) =>
        value.AsSpan().IndexOfAny(",\"\n\r") < 0 ? value : $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    private static SegmentDefinition? Find(DefinitionsRegistry registry, string id) => registry.Current.Segments.FirstOrDefault(s => s.Id == id);

    private static async Task<SegmentView> ViewAsync(SegmentDefinition s, DefinitionsRegistry registry, INudgeStore store, SweepProgress? progress, CancellationToken cancellationToken) =>
        new(s.Id, s.Name, s.Description, await store.CountSegmentMembersAsync(s.Id, cancellationToken), progress,
            registry.Json(DefinitionsRegistry.SegmentKind, s.Id) is { } json ? CustomerView.Json(json) : null);

    private static ProblemHttpResult NoSegment(string id) => Problems.NotFound($"No segment has the id '{id}'. GET /api/segments lists them.");
}

/// <summary>A segment as the API shows it.</summary>
public sealed record SegmentView(string Id, string Name, string? Description, long Members, SweepProgress? Evaluation, JsonElement? Definition);

public sealed record MemberView(string CustomerId, DateTimeOffset Since);

public sealed record MemberPage(IReadOnlyList<MemberView> Members, string? Next);
