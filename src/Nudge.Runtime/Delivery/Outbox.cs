using Nudge.Engine.Messaging;
using Nudge.Storage;

namespace Nudge.Runtime.Delivery;

/// <summary>
/// Where intents enter delivery: checked (a known channel that is configured, a topic, a template that
/// exists, a customer that exists), then queued once per idempotency key, and delivery is woken.
/// </summary>
public sealed class Outbox(INudgeStore store, DeliverySettings settings, TemplateRegistry templates, Coupons coupons, OutboxSignal signal, TimeProvider time)
{
    /// <summary>Queues an intent; the problems say what is wrong when it is refused.</summary>
    public async Task<(EnqueueResult? Result, List<(string Field, string Problem)> Problems)> EnqueueAsync(MessageIntent intent, CancellationToken cancellationToken)
    {
        List<(string, string)> problems = [];
        if (string.IsNullOrWhiteSpace(intent.IdempotencyKey) || intent.IdempotencyKey.Length > 200) problems.Add(("idempotencyKey", "is required, at most 200 characters"));
        if (intent.Channel != ChannelNames.Best && !ChannelNames.IsChannel(intent.Channel))
            problems.Add(("channel", $"must be one of {string.Join(", ", ChannelNames.All)} or best"));
        else if (intent.Channel != ChannelNames.Best && !settings.ConfiguredChannels().Contains(intent.Channel))
            problems.Add(("channel", $"'{intent.Channel}' is not configured on this engine (configured: {string.Join(", ", settings.ConfiguredChannels())})"));
        if (!Topics.IsTopic(intent.Topic)) problems.Add(("topic", "must be marketing or transactional"));
        if (!templates.Current.Templates.TryGetValue(intent.TemplateId, out var template) || template.Kind != "message")
            problems.Add(("template", $"there is no message template '{intent.TemplateId}'"));
        if (intent.CouponCampaign is { } campaign && coupons.Find(campaign) is null) problems.Add(("coupon", $"there is no coupon campaign '{campaign}'"));
        if (await store.GetCustomerAsync(intent.CustomerId, cancellationToken) is null)
            problems.Add(("customerId", $"no customer has the id '{intent.CustomerId}'"));
        if (problems.Count > 0) return (null, problems);

        var result = await store.EnqueueMessageAsync(intent, time.GetUtcNow(), cancellationToken);
        if (result.Created) signal.Pulse();
        return (result, problems);
    }
}
