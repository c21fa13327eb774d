using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nudge.Channels;
using Nudge.Engine.Messaging;
using Nudge.Engine.Messaging.Templates;
using Nudge.Storage;
using Nudge.Runtime.Customers;

namespace Nudge.Runtime.Delivery;

/// <summary>
/// Takes due messages from the outbox and sees each through: the policy decides (consent,
/// suppression, caps, quiet hours, channel), the template renders, the channel sends, the outcome is
/// recorded. A message is marked <c>sending</c> (and counts towards caps) before it leaves, so a crash
/// never sends it twice; transient failures retry with backoff and jitter until the last attempt.
/// </summary>
public sealed partial class DeliveryWorker(
    INudgeStore store, DeliverySettings settings, ChannelSet channels, RecipientLoader recipients, TemplateRegistry templates,
    TrackingKeyring keyring, CustomerEvents events, Coupons coupons, OutboxSignal signal, TimeProvider time, RuntimeOptions runtime, ILogger<DeliveryWorker> logger) : BackgroundService
{
    private readonly SemaphoreSlim _running = new(1, 1);
    private Task? _sending;

    /// <summary>
    /// Holds delivery after the current round, once its sends are done, until the returned handle is
    /// disposed (maintenance, a provider outage you know of, the demo). Intents keep being accepted.
    /// </summary>
    public async Task<IDisposable> PauseAsync(CancellationToken cancellationToken)
    {
        await _running.WaitAsync(cancellationToken);
        await DrainQuietlyAsync();
        return new Hold(_running);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            int handled;
            await _running.WaitAsync(stoppingToken);
            try
            {
                handled = await RunOnceAsync(stoppingToken);
                if (handled == 0) await DrainQuietlyAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogRoundFailed(logger, e);
                handled = 0;
            }
            finally
            {
                _running.Release();
            }

            if (handled > 0) continue;
            await signal.WaitAsync(settings.Poll, stoppingToken);
        }
    }

    /// <summary>One round: claim due messages, decide, record, send, record. Returns how many were claimed.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var claimed = await store.ClaimDueMessagesAsync(now, settings.BatchSize, cancellationToken);
        if (claimed.Count == 0) return 0;

        // Decide per customer, in order, so caps see the customer's earlier messages of this round too.
        ConcurrentBag<MessageUpdate> decisions = [];
        ConcurrentBag<(MessageRecord Message, OutgoingMessage Outgoing, IChannel Channel)> sends = [];
        var catalog = templates.Current;
        var customers = claimed.GroupBy(m => m.Intent.CustomerId).ToList();
        // Deciding is CPU work: one part per core. (Sending waits on the network: settings.Parallelism at once.)
        var parts = Environment.ProcessorCount;
        var part = Math.Max(1, (customers.Count + parts - 1) / parts);
        await Parallel.ForEachAsync(customers.Chunk(part), new ParallelOptions { MaxDegreeOfParallelism = parts, CancellationToken = cancellationToken },
            async (groups, ct) =>
            {
                var audiences = await recipients.LoadManyAsync([.. groups.Select(g => g.Key)], now, ct);
                foreach (var group in groups)
                {
                    var audience = audiences[group.Key];
                    List<SentMessage> recent = audience is null ? [] : [.. audience.Recipient.RecentMarketing];
                    // Messages due at the same moment are decided in key order, not in the order they
                    // happened to be written: which one a cap lets through is then the same every time.
                    foreach (var message in group.OrderBy(m => m.DueAt).ThenBy(m => m.Intent.IdempotencyKey, StringComparer.Ordinal))
                    {
                        if (audience is null)
                        {
                            decisions.Add(new MessageUpdate(message.Id, MessageStatus.Dropped, $"unknown_customer: no customer has the id '{group.Key}'"));
                            continue;
                        }

                        var decision = DeliveryPolicy.Decide(message.Intent, audience.Recipient with { RecentMarketing = recent }, settings.Policy, now);
                        if (decision.Outcome == PolicyOutcome.Drop) decisions.Add(new MessageUpdate(message.Id, MessageStatus.Dropped, decision.Reason));
                        else if (decision.Outcome == PolicyOutcome.Defer)
                            decisions.Add(new MessageUpdate(message.Id, MessageStatus.Deferred, decision.Reason, decision.DeferUntil, decision.Channel));
                        else
                        {
                            var (update, outgoing) = await PrepareAsync(message, decision, audience, catalog, now, ct);
                            decisions.Add(update);
                            if (outgoing is null) continue;
                            sends.Add((message, outgoing, channels[decision.Channel!]));
                            if (message.Intent.Topic == Topics.Marketing) recent.Add(new SentMessage(decision.Channel!, now));
                        }
                    }
                }
            });
        await store.UpdateMessagesAsync([.. decisions], now, cancellationToken);

        // This round's sends go on while the next round decides: its decisions are recorded, so the
        // next round's caps count them. At most two rounds are ever sending.
        var previous = _sending;
        _sending = SendAllAsync([.. sends], cancellationToken);
        if (previous is not null) await previous;
        return claimed.Count;
    }

    /// <summary>Waits for the sends still in flight.</summary>
    public async Task DrainAsync()
    {
        if (_sending is { } sending)
        {
            _sending = null;
            await sending;
        }
    }

    private async Task SendAllAsync(IReadOnlyList<(MessageRecord Message, OutgoingMessage Outgoing, IChannel Channel)> sends, CancellationToken cancellationToken)
    {
        ConcurrentBag<MessageUpdate> outcomes = [];
        try
        {
            await Parallel.ForEachAsync(sends, new ParallelOptions { MaxDegreeOfParallelism = settings.Parallelism, CancellationToken = cancellationToken },
                async (send, ct) => outcomes.Add(await SendAsync(send.Message, send.Outgoing, send.Channel, ct)));
        }
        finally
        {
            // Even when stopping, what did go out is recorded; a send cut short stays "sending" and is
            // reported as interrupted at the next start.
            await store.UpdateMessagesAsync([.. outcomes], time.GetUtcNow(), CancellationToken.None);
        }
    }

    private async Task<(MessageUpdate Update, OutgoingMessage? Outgoing)> PrepareAsync(
        MessageRecord message, PolicyDecision decision, Audience audience, TemplateCatalog catalog, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var channel = decision.Channel!;
        var tokens = keyring.Tokens;
        var unsubscribe = $"{settings.PublicUrl}/t/u/{tokens.Create(TrackingKind.Unsubscribe, message.Id)}";
        var model = audience.Model(message.Id, unsubscribe);
        if (message.Intent.DataJson is { } json && TemplateValues.FromJson(json) is Dictionary<string, object?> data)
        {
            foreach (var (key, value) in data) model.TryAdd(key, value);
            model["data"] = data;
        }

        if (message.Intent.CouponCampaign is { } campaignId)
        {
            if (coupons.Find(campaignId) is not { } campaign)
                return (new MessageUpdate(message.Id, MessageStatus.Dead, $"coupon campaign '{campaignId}' does not exist"), null);
            var issued = await coupons.IssueAsync(campaign, audience.Recipient.CustomerId, message.Id, null, cancellationToken);
            if (issued.Code is null) return (new MessageUpdate(message.Id, MessageStatus.Dropped, $"coupon_{issued.Refusal}:{campaignId}"), null);
            model["coupon"] = Coupons.TemplateValue(campaign, issued.Code, audience.Locale ?? settings.DefaultLocale);
        }

        RenderedMessage content;
        try
        {
            content = catalog.Render(new RenderRequest(message.Intent.TemplateId, channel, audience.Locale, audience.Recipient.TimeZone, runtime.Currency, now, model));
        }
        catch (TemplateRenderException e)
        {
            return (new MessageUpdate(message.Id, MessageStatus.Dead, $"template: {e.Message}", Channel: channel), null);
        }

        List<string> links = [];
        if (channel is ChannelNames.Email or ChannelNames.Inbox)
        {
            (var html, var text, links) = LinkTracking.Track(content.Html, channel == ChannelNames.Email ? content.Text : null,
                i => $"{settings.PublicUrl}/t/c/{tokens.Create(TrackingKind.Click, message.Id, i)}",
                $"{settings.PublicUrl}/t/o/{tokens.Create(TrackingKind.Open, message.Id)}", unsubscribe);
            content = content with { Html = html, Text = channel == ChannelNames.Email ? text : content.Text };
        }
        else if (channel is ChannelNames.Sms or ChannelNames.WeCom or ChannelNames.DingTalk)
        {
            // Text has no pixel, so a click is the only engagement these channels can show.
            (_, var text, links) = LinkTracking.Track(null, content.Text, i => $"{settings.PublicUrl}/t/c/{tokens.Create(TrackingKind.Click, message.Id, i)}", "", null);
            content = content with { Text = text };
        }

        var update = new MessageUpdate(message.Id, MessageStatus.Sending, null, Channel: channel, Recipient: decision.Address, SentAt: now,
            Locale: content.Locale, Subject: content.Subject, Links: links);
        return (update, new OutgoingMessage(message.Id, message.Intent.IdempotencyKey, message.Intent.CustomerId, message.Intent.Topic, decision.Address!, content,
            message.Intent.Topic == Topics.Marketing ? unsubscribe : null, message.Intent.DataJson));
    }

    private async Task<MessageUpdate> SendAsync(MessageRecord message, OutgoingMessage outgoing, IChannel channel, CancellationToken cancellationToken)
    {
        var attempts = message.Attempts + 1;
        SendResult result;
        try
        {
            result = await channel.SendAsync(outgoing, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // An adapter bug or an unclassified failure: retry like a transient error, the reason recorded.
            LogSendFailed(logger, message.Id, channel.Name, e);
            result = SendResult.Retry($"{channel.Name}: {e.GetType().Name}: {e.Message}");
        }

        switch (result.Status)
        {
            case SendStatus.Sent:
                return new MessageUpdate(message.Id, MessageStatus.Sent, Attempts: attempts, ProviderId: result.ProviderId);
            case SendStatus.Transient when attempts < settings.MaxAttempts:
                return new MessageUpdate(message.Id, MessageStatus.Retry, result.Error, time.GetUtcNow() + RetryDelay(attempts, result.RetryAfter), Attempts: attempts);
            case SendStatus.Transient:
                return new MessageUpdate(message.Id, MessageStatus.Dead, $"gave up after {attempts} attempts: {result.Error}", Attempts: attempts);
            case SendStatus.InvalidAddress:
                await store.SuppressAsync(channel.Name, outgoing.Address, "invalid_address", time.GetUtcNow(), cancellationToken);
                await events.AppendAsync(outgoing.CustomerId, "Message Bounced", new Dictionary<string, object?>
                {
                    ["message_id"] = message.Id, ["channel"] = channel.Name, ["reason"] = result.Error,
                }, $"bounce:{message.Id}", cancellationToken);
                return new MessageUpdate(message.Id, MessageStatus.Dead, $"invalid address: {result.Error}", Attempts: attempts);
            default:
                return new MessageUpdate(message.Id, MessageStatus.Dead, result.Error, Attempts: attempts);
        }
    }

    /// <summary>Exponential backoff from <see cref="DeliverySettings.FirstRetry"/>, capped, ±20 % jitter, never sooner than the provider asked.</summary>
    private TimeSpan RetryDelay(int attempts, TimeSpan? retryAfter)
    {
        var exponential = settings.FirstRetry.TotalSeconds * Math.Pow(2, Math.Min(attempts - 1, 20));
        var capped = Math.Min(exponential, settings.MaxRetryDelay.TotalSeconds);
        var jittered = capped * (0.8 + (Random.Shared.NextDouble() * 0.4));
        return TimeSpan.FromSeconds(Math.Max(jittered, retryAfter?.TotalSeconds ?? 0));
    }

    private async Task DrainQuietlyAsync()
    {
        try
        {
            await DrainAsync();
        }
        catch (OperationCanceledException)
        {
            // Stopping cut the sends short: they stay "sending" and are reported as interrupted at the next start.
        }
        catch (Exception e)
        {
            LogRoundFailed(logger, e);
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await DrainQuietlyAsync();
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _running.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A delivery round failed; it is tried again")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending message {MessageId} on {Channel} threw; it will be retried")]
    private static partial void LogSendFailed(ILogger logger, long messageId, string channel, Exception exception);
}
