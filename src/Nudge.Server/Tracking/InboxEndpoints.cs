using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Nudge.Engine.Customers;
using Nudge.Engine.Messaging;
using Nudge.Runtime.Delivery;
using Nudge.Server.Api;
using Nudge.Storage;
using Nudge.Runtime.Customers;

namespace Nudge.Server.Tracking;

/// <summary>
/// The in-app inbox for the shop's app or mini-program, authorised by a per-customer token
/// (GET /api/customers/{id}/inbox-token): list, mark read, and a Server-Sent Events stream.
/// </summary>
public static class InboxEndpoints
{
    public static IEndpointRouteBuilder MapInbox(this IEndpointRouteBuilder app)
    {
        var inbox = app.MapGroup("/inbox").WithTags("Inbox");
        inbox.MapGet("/", ListAsync).WithSummary("The customer's inbox, oldest first after `after`; `unread=true` for unread only");
        inbox.MapPost("/read", ReadAsync).WithSummary("Marks messages read: `{\"ids\": [1, 2]}`; each counts as an open");
        inbox.MapGet("/stream", StreamAsync).WithSummary("New inbox messages as Server-Sent Events (event: message)");
        return app;
    }

    private static async Task<Results<Ok<IReadOnlyList<InboxItem>>, ProblemHttpResult>> ListAsync(
        string? token, TrackingKeyring keyring, INudgeStore store, CancellationToken cancellationToken, long? after = null, bool unread = false, int limit = 50)
    {
        if (Customer(token, keyring) is not { } customer) return BadToken();
        if (limit is < 1 or > 500) return Problems.BadRequest("Invalid query.", "limit must be between 1 and 500.");
        return TypedResults.Ok(await store.ListInboxAsync(customer, after, unread, limit, cancellationToken));
    }

    private static async Task<Results<Ok<ReadResult>, ProblemHttpResult>> ReadAsync(
        string? token, JsonElement body, TrackingKeyring keyring, INudgeStore store, CustomerEvents events, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Customer(token, keyring) is not { } customer) return BadToken();
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("ids", out var ids) || ids.ValueKind != JsonValueKind.Array
            || ids.EnumerateArray().Any(i => !i.TryGetInt64(out _)) || ids.GetArrayLength() > 500)
            return Problems.BadRequest("Invalid body.", "ids: is required, an array of up to 500 inbox message ids.");
        var read = await store.MarkInboxReadAsync(customer, [.. ids.EnumerateArray().Select(i => i.GetInt64())], time.GetUtcNow(), cancellationToken);
        foreach (var messageId in read)
            await events.AppendAsync(customer, EngagementEvents.MessageOpened, new Dictionary<string, object?> { ["message_id"] = messageId, ["channel"] = ChannelNames.Inbox },
                $"open:{messageId}", cancellationToken);
        return TypedResults.Ok(new ReadResult(read.Count));
    }

    private static async Task StreamAsync(HttpContext context, string? token, TrackingKeyring keyring, InboxChannel inbox)
    {
        if (Customer(token, keyring) is not { } customer)
        {
            await BadToken().ExecuteAsync(context);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.WriteAsync(": connected\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        try
        {
            await foreach (var item in inbox.ListenAsync(customer, context.RequestAborted))
            {
                var json = JsonSerializer.Serialize(item, NudgeJson.Default.InboxItem);
                await context.Response.WriteAsync($"id: {item.MessageId}\nevent: message\ndata: {json}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The app closed the stream.
        }
    }

    private static string? Customer(string? token, TrackingKeyring keyring) => token is null ? null : keyring.Tokens.CustomerOf(token);

    private static ProblemHttpResult BadToken() => Problems.Create(StatusCodes.Status401Unauthorized, "Invalid inbox token.",
        "Pass ?token= from GET /api/customers/{id}/inbox-token (the shop's backend asks for it with the admin key).");
}

/// <summary>How many messages were newly marked read.</summary>
public sealed record ReadResult(int Marked);
