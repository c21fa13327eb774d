using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Nudge.Engine.Messaging;
using Nudge.Runtime.Delivery;
using Nudge.Storage;

namespace Nudge.Server.Api;

/// <summary>Consent per channel and topic (with its ledger), suppressed addresses, and inbox tokens for the shop's app.</summary>
public static class ConsentApi
{
    public static RouteGroupBuilder MapConsentApi(this RouteGroupBuilder api)
    {
        var customers = api.MapGroup("/customers").WithTags("Consent");
        customers.MapGet("/{id}/consent", GetAsync).WithSummary("A customer's consent now, per channel and topic, and the ledger of every change");
        customers.MapPut("/{id}/consent", PutAsync)
            .WithSummary("Records consent given or withdrawn")
            .WithDescription("Body: `{\"channel\": \"email\", \"topic\": \"marketing\", \"granted\": true, \"source\": \"checkout-form\"}`; topic defaults to marketing, source to api.");
        customers.MapGet("/{id}/inbox-token", InboxTokenAsync)
            .WithTags("Inbox")
            .WithSummary("A token for the shop's app to read this customer's inbox (/inbox?token=...)");

        var suppressions = api.MapGroup("/suppressions").WithTags("Consent");
        suppressions.MapGet("/{channel}/{address}", async (string channel, string address, INudgeStore store, CancellationToken ct) =>
            await store.SuppressionAsync(channel, ContactAddresses.Normalize(channel, address), ct) is { } reason
                ? Results.Ok(new Suppression(channel, ContactAddresses.Normalize(channel, address), reason))
                : Problems.NotFound($"{address} is not suppressed on {channel}.")).WithSummary("Whether an address is suppressed, and why");
        suppressions.MapPut("/{channel}/{address}", async (string channel, string address, INudgeStore store, TimeProvider time, CancellationToken ct) =>
        {
            if (channel is not (ChannelNames.Email or ChannelNames.Sms)) return Problems.BadRequest("Invalid channel.", "Addresses are suppressed on email or sms.");
            await store.SuppressAsync(channel, ContactAddresses.Normalize(channel, address), "manual", time.GetUtcNow(), ct);
            return Results.NoContent();
        }).WithSummary("Suppresses an address (nothing is sent to it on that channel)");
        suppressions.MapDelete("/{channel}/{address}", async (string channel, string address, INudgeStore store, CancellationToken ct) =>
            await store.UnsuppressAsync(channel, ContactAddresses.Normalize(channel, address), ct) ? Results.NoContent() : Problems.NotFound($"{address} is not suppressed on {channel}."))
            .WithSummary("Lifts a suppression (e.g. after a bounced mailbox is fixed)");
        return api;
    }

    private static async Task<Results<Ok<ConsentView>, ProblemHttpResult>> GetAsync(string id, INudgeStore store, CancellationToken cancellationToken)
    {
        if (await store.GetCustomerAsync(id, cancellationToken) is not { } profile) return NoCustomer(id);
        var ledger = await store.ConsentLedgerAsync(profile.UserId, cancellationToken);
        var current = ledger.GroupBy(c => (c.Channel, c.Topic)).Select(g => g.Last()).OrderBy(c => c.Channel, StringComparer.Ordinal).ThenBy(c => c.Topic, StringComparer.Ordinal).ToList();
        return TypedResults.Ok(new ConsentView(current, ledger));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> PutAsync(string id, JsonElement body, INudgeStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await store.GetCustomerAsync(id, cancellationToken) is not { } profile) return NoCustomer(id);
        List<string> problems = [];
        string? Text(string name) => body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var channel = Text("channel");
        var topic = Text("topic") ?? Topics.Marketing;
        if (channel is null || !ChannelNames.IsChannel(channel)) problems.Add($"channel: must be one of {string.Join(", ", ChannelNames.All)}");
        if (!Topics.IsTopic(topic)) problems.Add("topic: must be marketing or transactional");
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("granted", out var g) || g.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            problems.Add("granted: is required, true or false");
        if (problems.Count > 0) return Problems.BadRequest("Invalid consent.", string.Join("; ", problems));
        await store.RecordConsentAsync([new ConsentChange(profile.UserId, channel!, topic, body.GetProperty("granted").GetBoolean(), Text("source") ?? "api", time.GetUtcNow())], cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<InboxToken>, ProblemHttpResult>> InboxTokenAsync(string id, INudgeStore store, TrackingKeyring keyring, CancellationToken cancellationToken) =>
        await store.GetCustomerAsync(id, cancellationToken) is { } profile
            ? TypedResults.Ok(new InboxToken(profile.UserId, keyring.Tokens.ForCustomer(profile.UserId)))
            : NoCustomer(id);

    private static ProblemHttpResult NoCustomer(string id) => Problems.NotFound($"No customer has the id '{id}'.");
}

/// <summary>Consent now (the latest entry per channel and topic) and the whole ledger.</summary>
public sealed record ConsentView(IReadOnlyList<ConsentChange> Current, IReadOnlyList<ConsentChange> Ledger);

/// <summary>A suppressed address.</summary>
public sealed record Suppression(string Channel, string Address, string Reason);

/// <summary>An inbox token for the shop's app.</summary>
public sealed record InboxToken(string CustomerId, string Token);
