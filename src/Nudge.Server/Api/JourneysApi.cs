using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Nudge.Engine.Journeys;
using Nudge.Runtime.Definitions;
using Nudge.Runtime.Journeys;
using Nudge.Storage;

namespace Nudge.Server.Api;

/// <summary>Journeys: save (each edit a new version), validate, read, delete, and their counts; staff tasks they open.</summary>
public static class JourneysApi
{
    // A journey document is a few kilobytes; this leaves room for a hundred steps and then some.
    private const int MaxDocument = 256 * 1024;

    public static RouteGroupBuilder MapJourneysApi(this RouteGroupBuilder api)
    {
        var journeys = api.MapGroup("/journeys").WithTags("Journeys");
        journeys.MapGet("/", List).WithSummary("Every journey, at its current version");
        journeys.MapPost("/validate", ValidateAsync)
            .WithSummary("Checks a journey document without saving it")
            .WithDescription("Body: the document as JSON (or YAML with Content-Type application/yaml). Answers 200 with `problems: []` when valid; each problem has path, line, column and message.");
        journeys.MapPost("/backtest", BacktestDocumentAsync)
            .WithSummary("Runs a journey document over the stored history without sending anything")
            .WithDescription("Query: `from` and `to` (ISO 8601). Body: the document, as for PUT. Reports per step how many customers would have reached it and how many messages per channel would have gone out.");
        journeys.MapPost("/{id}/backtest", BacktestSavedAsync).WithSummary("Runs a saved journey's current version over the stored history without sending anything");
        journeys.MapPut("/{id}", PutAsync)
            .WithSummary("Creates a journey or saves a new version of it")
            .WithDescription("Body: the document as JSON or YAML (docs/journeys.md). Instances already inside finish on their version unless the document says `migrate: true`. Saving the same document again creates no version.");
        journeys.MapGet("/{id}", Get).WithSummary("A journey's current version, and the versions it has");
        journeys.MapGet("/{id}/versions/{version:int}", GetVersion).WithSummary("One version of a journey");
        journeys.MapDelete("/{id}", DeleteAsync).WithSummary("Deletes a journey with all versions; instances inside end when next touched");
        journeys.MapGet("/{id}/stats", StatsAsync)
            .WithSummary("How many entered, are waiting, reached each step, and ended by reason")
            .WithDescription("`waiting` is instances still inside; `ended` counts by reason (completed, goal, exit:..., or an exit step's reason); `holdout` is customers kept out for measuring uplift.");

        var tasks = api.MapGroup("/tasks").WithTags("Journeys");
        tasks.MapGet("/", ListTasksAsync)
            .WithSummary("Staff tasks opened by journeys (客服跟进), oldest first")
            .WithDescription("Query: `queue`, `open` (default true), `after` (an id, for the next page), `limit` (≤500).");
        tasks.MapPost("/{id:long}/done", CompleteTaskAsync).WithSummary("Closes a staff task").WithDescription("Body: `{\"by\": \"agent name\"}` (optional).");
        return api;
    }

    private static Ok<List<JourneySummary>> List(JourneyRegistry registry) =>
        TypedResults.Ok(registry.Current.Current.Values.OrderBy(j => j.Id, StringComparer.Ordinal).Select(JourneySummary.From).ToList());

    private static async Task<Results<Ok<JourneyCheck>, ProblemHttpResult>> ValidateAsync(HttpRequest request, JourneyRegistry registry, CancellationToken cancellationToken)
    {
        if (await ReadAsync(request, cancellationToken) is not { } text) return TooLarge();
        var result = JourneyFiles.Check(text, "request body", registry.References());
        return TypedResults.Ok(new JourneyCheck(result.Journey is not null, [.. result.Problems]));
    }

    private static async Task<Results<Created<JourneySaved>, Ok<JourneySaved>, ProblemHttpResult>> PutAsync(
        string id, HttpRequest request, JourneyRegistry registry, CancellationToken cancellationToken)
    {
        if (await ReadAsync(request, cancellationToken) is not { } text) return TooLarge();
        var (journey, created, problems) = await registry.SaveAsync(text, id, "api", cancellationToken);
        if (journey is null) return Invalid(problems);
        var saved = new JourneySaved(journey.Id, journey.Version, created);
        return created ? TypedResults.Created($"/api/journeys/{journey.Id}/versions/{journey.Version}", saved) : TypedResults.Ok(saved);
    }

    private static async Task<Results<Ok<JourneyDocument>, ProblemHttpResult>> Get(string id, JourneyRegistry registry, INudgeStore store, CancellationToken cancellationToken)
    {
        var versions = (await store.LoadJourneysAsync(cancellationToken)).Where(j => j.Id == id).ToList();
        if (versions.Count == 0) return Problems.NotFound($"There is no journey '{id}'.");
        var latest = versions[^1];
        return TypedResults.Ok(new JourneyDocument(id, latest.Version, [.. versions.Select(v => new JourneyVersionView(v.Version, v.Source, v.CreatedAt))], CustomerView.Json(latest.Json)));
    }

    private static async Task<Results<Ok<JsonElement>, ProblemHttpResult>> GetVersion(string id, int version, INudgeStore store, CancellationToken cancellationToken) =>
        (await store.LoadJourneysAsync(cancellationToken)).FirstOrDefault(j => j.Id == id && j.Version == version) is { } v
            ? TypedResults.Ok(CustomerView.Json(v.Json))
            : Problems.NotFound($"Journey '{id}' has no version {version}.");

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, JourneyRegistry registry, CancellationToken cancellationToken) =>
        await registry.DeleteAsync(id, cancellationToken) ? TypedResults.NoContent() : Problems.NotFound($"There is no journey '{id}'.");

    private static async Task<Results<Ok<JourneyStats>, ProblemHttpResult>> StatsAsync(string id, JourneyRegistry registry, INudgeStore store, CancellationToken cancellationToken)
    {
        var counts = await store.JourneyCountsAsync(id, cancellationToken);
        if (counts.Count == 0 && !registry.Current.Current.ContainsKey(id)) return Problems.NotFound($"There is no journey '{id}'.");
        return TypedResults.Ok(JourneyStats.From(id, counts));
    }

    private static async Task<Results<Ok<IReadOnlyList<StaffTask>>, ProblemHttpResult>> ListTasksAsync(
        INudgeStore store, CancellationToken cancellationToken, string? queue = null, bool open = true, long? after = null, int limit = 100)
    {
        if (limit is < 1 or > 500) return Problems.BadRequest("Invalid limit.", "limit must be between 1 and 500.");
        return TypedResults.Ok(await store.ListStaffTasksAsync(queue, open, after, limit, cancellationToken));
    }

    private static async Task<Results<Ok<StaffTask>, ProblemHttpResult>> CompleteTaskAsync(
        long id, TaskDone? body, INudgeStore store, TimeProvider time, CancellationToken cancellationToken) =>
        await store.CompleteStaffTaskAsync(id, body?.By ?? "api", time.GetUtcNow(), cancellationToken) is { } task
            ? TypedResults.Ok(task)
            : Problems.NotFound($"There is no staff task {id}.");

    private static async Task<Results<Ok<BacktestReport>, ProblemHttpResult>> BacktestDocumentAsync(
        HttpRequest request, DateTimeOffset from, DateTimeOffset? to, JourneyRegistry registry, DefinitionsRegistry definitions, INudgeStore store, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (await ReadAsync(request, cancellationToken) is not { } text) return TooLarge();
        // Nothing is sent, so what the journey refers to need not exist yet.
        var result = JourneyFiles.Check(text, "request body", null);
        if (result.Journey is not { } journey) return Invalid(result.Problems);
        return await BacktestAsync(journey, from, to ?? time.GetUtcNow(), registry, definitions, store, cancellationToken);
    }

    private static async Task<Results<Ok<BacktestReport>, ProblemHttpResult>> BacktestSavedAsync(
        string id, DateTimeOffset from, DateTimeOffset? to, JourneyRegistry registry, DefinitionsRegistry definitions, INudgeStore store, TimeProvider time,
        CancellationToken cancellationToken) =>
        registry.Current.Current.TryGetValue(id, out var journey)
            ? await BacktestAsync(journey, from, to ?? time.GetUtcNow(), registry, definitions, store, cancellationToken)
            : Problems.NotFound($"There is no journey '{id}'.");

    private static async Task<Results<Ok<BacktestReport>, ProblemHttpResult>> BacktestAsync(
        JourneyDefinition journey, DateTimeOffset from, DateTimeOffset to, JourneyRegistry registry, DefinitionsRegistry definitions, INudgeStore store,
        CancellationToken cancellationToken)
    {
        if (to <= from) return Problems.BadRequest("Invalid period.", $"to ({to:O}) must be after from ({from:O}).");
        return TypedResults.Ok(await JourneyBacktest.RunAsync(store, definitions.Current, definitions.Fold, journey, from, to, registry.Runner.DefaultZone, null, cancellationToken));
    }

    /// <summary>The body as text, or null when it is larger than a journey should ever be.</summary>
    private static async Task<string?> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxDocument) return null;
            buffer.Write(chunk, 0, read);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static ProblemHttpResult TooLarge() =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, "Journey too large.", $"A journey document may be at most {MaxDocument / 1024} KB.");

    private static ProblemHttpResult Invalid(IReadOnlyList<JourneyProblem> problems) => Problems.BadRequest(
        "Invalid journey.", string.Join("; ", problems.Select(p => $"{p.Path}: {p.Message}")),
        new Dictionary<string, object?> { ["problems"] = problems.ToList() });
}

/// <summary>A journey in the list.</summary>
public sealed record JourneySummary(string Id, string Name, int Version, bool Enabled, string Trigger, int Steps, int HoldoutPercent)
{
    public static JourneySummary From(JourneyDefinition j) => new(j.Id, j.Name, j.Version, j.Enabled, j.Trigger.Describe(), j.Steps.Count, j.HoldoutPercent);
}

/// <summary>The result of checking a document.</summary>
public sealed record JourneyCheck(bool Valid, List<JourneyProblem> Problems);

/// <summary>The result of saving a document: the version in force and whether the save made it.</summary>
public sealed record JourneySaved(string Id, int Version, bool Created);

/// <summary>One stored version.</summary>
public sealed record JourneyVersionView(int Version, string Source, DateTimeOffset CreatedAt);

/// <summary>A journey's current document and its versions.</summary>
public sealed record JourneyDocument(string Id, int Version, List<JourneyVersionView> Versions, JsonElement Document);

/// <summary>Body closing a staff task.</summary>
public sealed record TaskDone(string? By);

/// <summary>A journey's numbers, across versions and per version.</summary>
public sealed record JourneyStats(string Id, long Entered, long Holdout, long Waiting, IReadOnlyDictionary<string, long> Ended, IReadOnlyDictionary<string, long> Steps,
    IReadOnlyDictionary<string, long> Variants, IReadOnlyList<JourneyVersionStats> Versions)
{
    public static JourneyStats From(string id, IReadOnlyList<JourneyCount> counts)
    {
        var versions = counts.GroupBy(c => c.Version).Select(g => Totals(g.Key, [.. g])).ToList();
        var all = Totals(0, counts);
        var variants = counts.Where(c => c.Kind == ActivityKinds.Step && c.Reason is not null)
            .GroupBy(c => $"{c.Step}:{c.Reason}", StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(c => c.Count), StringComparer.Ordinal);
        return new JourneyStats(id, all.Entered, all.Holdout, all.Waiting, all.Ended, all.Steps, variants, versions);
    }

    private static JourneyVersionStats Totals(int version, IReadOnlyList<JourneyCount> counts)
    {
        long Sum(string kind) => counts.Where(c => c.Kind == kind).Sum(c => c.Count);
        var ended = counts.Where(c => c.Kind == ActivityKinds.Ended).GroupBy(c => c.Reason ?? "", StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(c => c.Count), StringComparer.Ordinal);
        var steps = counts.Where(c => c.Kind == ActivityKinds.Step).GroupBy(c => c.Step ?? "", StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(c => c.Count), StringComparer.Ordinal);
        var entered = Sum(ActivityKinds.Entered);
        return new JourneyVersionStats(version, entered, Sum(ActivityKinds.Holdout), entered - ended.Values.Sum(), ended, steps);
    }
}

/// <summary>One version's numbers.</summary>
public sealed record JourneyVersionStats(int Version, long Entered, long Holdout, long Waiting, IReadOnlyDictionary<string, long> Ended, IReadOnlyDictionary<string, long> Steps);
