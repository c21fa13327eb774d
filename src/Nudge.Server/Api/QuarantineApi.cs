using Microsoft.AspNetCore.Http.HttpResults;
using Nudge.Runtime.Dispatch;
using Nudge.Storage;

namespace Nudge.Server.Api;

/// <summary>Customers set aside because their events kept failing, and releasing them once the cause is fixed.</summary>
public static class QuarantineApi
{
    public static RouteGroupBuilder MapQuarantineApi(this RouteGroupBuilder api)
    {
        var quarantine = api.MapGroup("/quarantine").WithTags("Customers");
        quarantine.MapGet("/", ListAsync)
            .WithSummary("Customers set aside because their events kept failing")
            .WithDescription("Each with the log position of the first event not applied, the error and when. Their events wait in the log; everyone else's go on.");
        quarantine.MapPost("/{id}/release", ReleaseAsync)
            .WithSummary("Applies a set-aside customer's waiting events and ends the quarantine")
            .WithDescription("`?rebuild=true` discards the customer's stored state and folds them afresh from the event log, for a state that cannot be read: profile, stats, tags and segments come back; journey instances and journey history do not. When the events still fail, the answer is 409 with the error and the customer stays aside.");
        return api;
    }

    private static async Task<Ok<List<QuarantineView>>> ListAsync(INudgeStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok((await store.QuarantinedAsync(cancellationToken)).Select(q => new QuarantineView(q.CustomerId, q.Position, q.Reason, q.At)).ToList());

    private static async Task<Results<Ok<ReleasedView>, ProblemHttpResult>> ReleaseAsync(
        string id, LogDispatcher dispatcher, CancellationToken cancellationToken, bool rebuild = false)
    {
        try
        {
            return await dispatcher.ReleaseAsync(id, rebuild, cancellationToken)
                ? TypedResults.Ok(new ReleasedView(id, rebuild))
                : Problems.NotFound($"Customer '{id}' is not set aside (GET /api/quarantine lists who is).");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "The customer's events still fail.",
                $"{Quarantine.Reason(e)} — the customer stays set aside. Fix the cause and release again; if their stored state cannot be read, release with ?rebuild=true.");
        }
    }
}

/// <summary>A customer set aside.</summary>
public sealed record QuarantineView(string CustomerId, long Position, string Reason, DateTimeOffset At);

/// <summary>A customer released.</summary>
public sealed record ReleasedView(string CustomerId, bool Rebuilt);
