using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Nudge.Engine.Messaging;
using Nudge.Runtime.Delivery;
using Nudge.Storage;

namespace Nudge.Server.Api;

/// <summary>The outbox: queue a message, follow it, retry a dead one.</summary>
public static class MessagesApi
{
    private const int MaxPage = 500;

    public static RouteGroupBuilder MapMessagesApi(this RouteGroupBuilder api)
    {
        var messages = api.MapGroup("/messages").WithTags("Messages");
        messages.MapPost("/", SendAsync)
            .WithSummary("Queues a message for a customer")
            .WithDescription("Body: `{\"idempotencyKey\", \"customerId\", \"channel\" (email, sms, wecom, dingtalk, webhook, inbox or best), \"topic\" (marketing or transactional), \"template\", \"data\" (the trigger's object)}`. A repeated idempotency key returns the first message and queues nothing.");
        messages.MapGet("/", ListAsync).WithSummary("Messages, newest first; filter by customer and status (dead = the dead-letter list)");
        messages.MapGet("/stats", StatsAsync).WithSummary("Number of messages per status");
        messages.MapGet("/{id:long}", GetAsync).WithSummary("One message: what was decided, sent, and why");
        messages.MapPost("/{id:long}/retry", RetryAsync).WithSummary("Queues a dead message again (after fixing its cause)");
        messages.MapPost("/retry-interrupted", RetryInterruptedAsync)
            .WithSummary("Queues again every message whose send a stop or crash cut short")
            .WithDescription("Such a message may or may not have reached the customer; retrying sends it again, which is usually right for anything but a one-off promotion.");
        return api;
    }

    private static async Task<Results<Accepted<MessageQueued>, ProblemHttpResult>> SendAsync(JsonElement body, Outbox outbox, CancellationToken cancellationToken)
    {
        if (body.ValueKind != JsonValueKind.Object) return Problems.BadRequest("Invalid message.", "The body must be a JSON object.");
        List<(string Field, string Problem)> problems = [];
        string Text(string name, string? fallback = null)
        {
            if (body.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String) return v.GetString()!;
            if (fallback is null) problems.Add((name, body.TryGetProperty(name, out _) ? "must be a string" : "is required"));
            return fallback ?? "";
        }

        string? data = null;
        if (body.TryGetProperty("data", out var d) && d.ValueKind != JsonValueKind.Null)
        {
            if (d.ValueKind == JsonValueKind.Object) data = d.GetRawText();
            else problems.Add(("data", "must be a JSON object"));
        }

        var intent = new MessageIntent(Text("idempotencyKey"), Text("customerId"), Text("channel", ChannelNames.Best), Text("topic", Topics.Marketing),
            Text("template"), data, body.TryGetProperty("coupon", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null, "api");
        if (problems.Count == 0)
        {
            var (result, refused) = await outbox.EnqueueAsync(intent, cancellationToken);
            if (result is not null) return TypedResults.Accepted($"/api/messages/{result.Id}", new MessageQueued(result.Id, result.Created, result.Status));
            problems = refused;
        }

        return Problems.BadRequest("Invalid message.", string.Join("; ", problems.Select(p => $"{p.Field}: {p.Problem}")),
            new Dictionary<string, object?> { ["errors"] = problems.Select(p => new FieldProblem(p.Field, p.Problem)).ToList() });
    }

    private static async Task<Results<Ok<MessagePage>, ProblemHttpResult>> ListAsync(INudgeStore store, CancellationToken cancellationToken,
        string? customer = null, string? status = null, long? before = null, int limit = 50)
    {
        if (limit is < 1 or > MaxPage) return Problems.BadRequest("Invalid query.", $"limit must be between 1 and {MaxPage}.");
        if (status is not null && !MessageStatus.All.Contains(status)) return Problems.BadRequest("Invalid query.", $"status must be one of {string.Join(", ", MessageStatus.All)}.");
        var page = await store.ListMessagesAsync(customer, status, before, limit, cancellationToken);
        return TypedResults.Ok(new MessagePage([.. page.Select(MessageView.From)], page.Count == limit ? page[^1].Id : null));
    }

    private static async Task<Ok<IReadOnlyDictionary<string, long>>> StatsAsync(INudgeStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.CountMessagesByStatusAsync(cancellationToken));

    private static async Task<Results<Ok<MessageView>, ProblemHttpResult>> GetAsync(long id, INudgeStore store, CancellationToken cancellationToken) =>
        await store.GetMessageAsync(id, cancellationToken) is { } m ? TypedResults.Ok(MessageView.From(m)) : Problems.NotFound($"There is no message {id}.");

    private static async Task<Ok<Requeued>> RetryInterruptedAsync(INudgeStore store, OutboxSignal signal, TimeProvider time, CancellationToken cancellationToken)
    {
        var requeued = await store.RetryInterruptedAsync(time.GetUtcNow(), cancellationToken);
        if (requeued > 0) signal.Pulse();
        return TypedResults.Ok(new Requeued(requeued));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RetryAsync(long id, INudgeStore store, OutboxSignal signal, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await store.GetMessageAsync(id, cancellationToken) is not { } m) return Problems.NotFound($"There is no message {id}.");
        if (!await store.RetryMessageAsync(id, time.GetUtcNow(), cancellationToken))
            return Problems.Create(StatusCodes.Status409Conflict, "Not dead.", $"Message {id} is {m.Status}; only dead messages can be retried.");
        signal.Pulse();
        return TypedResults.NoContent();
    }
}

/// <summary>How many messages were queued again.</summary>
public sealed record Requeued(int Messages);

/// <summary>What queuing a message did.</summary>
public sealed record MessageQueued(long Id, bool Created, string Status);

/// <summary>A field and what is wrong with it.</summary>
public sealed record FieldProblem(string Field, string Problem);

/// <summary>A page of messages; pass <c>next</c> as <c>before</c> for the next page.</summary>
public sealed record MessagePage(IReadOnlyList<MessageView> Messages, long? Next);

/// <summary>A message as the API shows it.</summary>
public sealed record MessageView(
    long Id, string IdempotencyKey, string CustomerId, string RequestedChannel, string? Channel, string Topic, string Template, string Source,
    string Status, string? Reason, int Attempts, DateTimeOffset DueAt, DateTimeOffset CreatedAt, DateTimeOffset? SentAt, string? Recipient,
    string? Locale, string? Subject, string? ProviderId)
{
    public static MessageView From(MessageRecord m) => new(m.Id, m.Intent.IdempotencyKey, m.Intent.CustomerId, m.Intent.Channel, m.Channel, m.Intent.Topic,
        m.Intent.TemplateId, m.Intent.Source, m.Status, m.Reason, m.Attempts, m.DueAt, m.CreatedAt, m.SentAt, m.Recipient, m.Locale, m.Subject, m.ProviderId);
}
