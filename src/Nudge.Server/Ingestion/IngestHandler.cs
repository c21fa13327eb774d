using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Nudge.Engine.Events;
using Nudge.Server.Api;
using Nudge.Server.Auth;
using Nudge.Server.Operations;

namespace Nudge.Server.Ingestion;

/// <summary>
/// One ingestion request: authenticate, read within limits, validate each message, queue the valid ones
/// and answer only when they are durable. A batch with some bad messages keeps the good ones and
/// answers 400 naming each bad message by index and field.
/// </summary>
public sealed partial class IngestHandler(
    SegmentParser parser, ApiKeys keys, IngestQueue queue, IngestMetrics metrics, NudgeOptions options, ILogger<IngestHandler> logger)
{
    private static readonly byte[] Success = """{"success":true}"""u8.ToArray();
    private int _inFlight;

    public async Task<IResult> HandleAsync(HttpContext context, EventType? singleType)
    {
        // Each request may hold a body up to the batch limit while it is read and parsed: cap how many at once.
        if (Interlocked.Increment(ref _inFlight) > options.MaxConcurrentIngestRequests)
        {
            Interlocked.Decrement(ref _inFlight);
            return AtCapacity(context);
        }

        try
        {
            return await HandleWithinLimitAsync(context, singleType);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static ProblemHttpResult AtCapacity(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "1";
        return Problems.Create(StatusCodes.Status429TooManyRequests, "Ingestion is at capacity.",
            "More events are arriving than can be committed right now. Retry after the number of seconds in Retry-After; nothing from this request was stored.");
    }

    private async Task<IResult> HandleWithinLimitAsync(HttpContext context, EventType? singleType)
    {
        var started = Stopwatch.GetTimestamp();
        var headerKey = Credentials.BasicUser(context.Request);
        if (headerKey is not null && keys.Check(headerKey) != KeyKind.Write) return Unauthorized(headerKey);

        var limit = singleType is null ? parser.Limits.MaxBatchBytes : parser.Limits.MaxMessageBytes;
        using var body = await RequestBody.ReadAsync(context.Request, limit, context.RequestAborted);
        if (body.Error is not null) return Problems.BadRequest("The request body was refused.", body.Error);

        var receivedAt = options.Time.GetUtcNow();
        var result = singleType is EventType type
            ? parser.ParseSingle(body.Memory, type, receivedAt)
            : parser.ParseBatch(body.Memory, receivedAt);
        if (headerKey is null && keys.Check(result.WriteKey) != KeyKind.Write)
            return result.BodyError is not null && result.WriteKey is null ? Problems.BadRequest("The request body was refused.", result.BodyError) : Unauthorized(result.WriteKey);
        if (result.BodyError is not null) return Problems.BadRequest("The request body was refused.", result.BodyError);

        var rejected = result.Errors.Select(e => e.Index).Distinct().Count();
        metrics.Received(result.Events.Count + rejected, rejected);

        if (result.Events.Count > 0 && !options.DiscardAfterParse)
        {
            if (!queue.TryEnqueue(result.Events, out var committed)) return AtCapacity(context);

            try
            {
                await committed;
            }
#pragma warning disable CA1031 // The writer logged the cause; the sender gets a retryable 503.
            catch (Exception)
#pragma warning restore CA1031
            {
                context.Response.Headers.RetryAfter = "5";
                return Problems.Create(StatusCodes.Status503ServiceUnavailable, "The events could not be committed.",
                    "Storage refused the write; nothing from this request was acknowledged. Retry later.");
            }
        }

        metrics.Acknowledged(Stopwatch.GetElapsedTime(started));
        if (result.Errors.Count == 0) return TypedResults.Bytes(Success, "application/json");

        LogRejected(logger, rejected, result.Events.Count + rejected, result.Errors[0]);
        return Problems.BadRequest(
            singleType is null ? $"{rejected} of {result.Events.Count + rejected} messages were rejected." : "The message was rejected.",
            string.Join("; ", result.Errors.Take(5)) + (result.Errors.Count > 5 ? $"; and {result.Errors.Count - 5} more" : ""),
            new Dictionary<string, object?>
            {
                ["errors"] = result.Errors.Select(e => new FieldErrorView(e.Index, e.Field, e.Detail)).ToArray(),
                ["accepted"] = result.Events.Count,
                ["rejected"] = rejected,
            });
    }

    private ProblemHttpResult Unauthorized(string? key)
    {
        if (!string.IsNullOrEmpty(key)) LogRefusedKey(logger, key);
        return Problems.Create(StatusCodes.Status401Unauthorized, "A valid write key is required.",
        "Send the source's write key as the HTTP Basic user name with an empty password, or as \"writeKey\" in the body.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rejected {Rejected} of {Total} messages; first problem: {FirstProblem}")]
    private static partial void LogRejected(ILogger logger, int rejected, int total, FieldError firstProblem);

    // The key is personal data: logged as a hash, enough to tell which wrong key a sender keeps using.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused an ingestion request with write key {Key}")]
    private static partial void LogRefusedKey(ILogger logger, [PersonalData] string key);
}

/// <summary>One rejected field in a 400 problem body.</summary>
public sealed record FieldErrorView(int? Index, string Field, string Detail);
