namespace Nudge.Engine.Messaging;

/// <summary>
/// A request to send one message to one customer: what a journey step or the API hands to delivery.
/// The idempotency key names the step, not the channel, so one step reaches a customer once whatever
/// channel it ends up on (cross-channel dedupe).
/// </summary>
/// <param name="IdempotencyKey">At most one message is ever created per key, e.g. <c>journey:v3:instance:step</c>.</param>
/// <param name="CustomerId">The customer's user id.</param>
/// <param name="Channel">A channel name, or <see cref="ChannelNames.Best"/>.</param>
/// <param name="Topic"><see cref="Topics.Marketing"/> or <see cref="Topics.Transactional"/>.</param>
/// <param name="TemplateId">The template to render.</param>
/// <param name="DataJson">The triggering object (cart, product, order...) as a JSON object, or null.</param>
/// <param name="CouponCampaign">A coupon campaign to issue a code from when sending, or null.</param>
/// <param name="Source">Who asked: <c>api</c>, or the journey and step.</param>
public sealed record MessageIntent(
    string IdempotencyKey,
    string CustomerId,
    string Channel,
    string Topic,
    string TemplateId,
    string? DataJson = null,
    string? CouponCampaign = null,
    string Source = "api");
