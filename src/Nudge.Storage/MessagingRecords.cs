using Nudge.Engine.Customers;
using Nudge.Engine.Messaging;

namespace Nudge.Storage;

/// <summary>A message in the outbox, with what delivery decided and did.</summary>
/// <param name="Id">Its number, also in tracking links.</param>
/// <param name="Intent">What was asked for.</param>
/// <param name="Channel">The channel chosen, once decided.</param>
/// <param name="Status">A <see cref="MessageStatus"/>.</param>
/// <param name="Reason">Why it was deferred, dropped, retried or given up on.</param>
/// <param name="Attempts">Sends tried so far.</param>
/// <param name="DueAt">When delivery next looks at it.</param>
/// <param name="CreatedAt">When the intent arrived.</param>
/// <param name="SentAt">When it was handed to the channel.</param>
/// <param name="Recipient">The address used (email, phone...).</param>
/// <param name="ProviderId">The id the provider gave it, if any.</param>
/// <param name="Locale">The template locale rendered.</param>
/// <param name="Subject">The rendered subject or title.</param>
public sealed record MessageRecord(
    long Id, MessageIntent Intent, string? Channel, string Status, string? Reason, int Attempts, DateTimeOffset DueAt,
    DateTimeOffset CreatedAt, DateTimeOffset? SentAt, string? Recipient, string? ProviderId, string? Locale, string? Subject);

/// <summary>A change to a message's delivery state; null fields keep their value.</summary>
/// <param name="Id">The message.</param>
/// <param name="Status">The new status.</param>
/// <param name="Reason">Why, or null.</param>
/// <param name="DueAt">When to look again (deferred, retry).</param>
/// <param name="Channel">The channel chosen.</param>
/// <param name="Recipient">The address used.</param>
/// <param name="SentAt">When it was handed to the channel (counts for caps from then).</param>
/// <param name="Attempts">Sends tried so far.</param>
/// <param name="ProviderId">The provider's id.</param>
/// <param name="Locale">The locale rendered.</param>
/// <param name="Subject">The rendered subject.</param>
/// <param name="Links">Link URLs by index, for click tracking.</param>
public sealed record MessageUpdate(
    long Id, string Status, string? Reason = null, DateTimeOffset? DueAt = null, string? Channel = null, string? Recipient = null,
    DateTimeOffset? SentAt = null, int? Attempts = null, string? ProviderId = null, string? Locale = null, string? Subject = null,
    IReadOnlyList<string>? Links = null);

/// <summary>What an enqueue did.</summary>
/// <param name="Id">The message for the idempotency key.</param>
/// <param name="Created">False when a message with that key already existed (nothing new was queued).</param>
/// <param name="Status">Its status now.</param>
public sealed record EnqueueResult(long Id, bool Created, string Status);

/// <summary>A message in a customer's in-app inbox.</summary>
/// <param name="Id">Its inbox id.</param>
/// <param name="CustomerId">The customer.</param>
/// <param name="MessageId">The outbox message it came from.</param>
/// <param name="Title">The title.</param>
/// <param name="Body">The text.</param>
/// <param name="Html">The HTML, if the template has it.</param>
/// <param name="CreatedAt">When it arrived.</param>
/// <param name="ReadAt">When the customer read it, or null.</param>
public sealed record InboxItem(long Id, string CustomerId, long MessageId, string? Title, string? Body, string? Html, DateTimeOffset CreatedAt, DateTimeOffset? ReadAt);

/// <summary>A stored template document.</summary>
/// <param name="Id">The template id.</param>
/// <param name="Json">The document.</param>
/// <param name="UpdatedAt">When it was last saved.</param>
public sealed record StoredTemplate(string Id, string Json, DateTimeOffset UpdatedAt);

/// <summary>A coupon code and what became of it.</summary>
/// <param name="Code">The code.</param>
/// <param name="CampaignId">Its campaign.</param>
/// <param name="CustomerId">Who it was issued to, or null while in the pool.</param>
/// <param name="MessageId">The message it was issued for, or null (issued by hand).</param>
/// <param name="IssuedAt">When it was issued.</param>
/// <param name="ExpiresAt">When it stops being valid, or null.</param>
/// <param name="RedeemedAt">When an order used it, or null.</param>
/// <param name="OrderId">The order that used it.</param>
/// <param name="Revenue">That order's total.</param>
public sealed record CouponCode(
    string Code, string CampaignId, string? CustomerId, long? MessageId, DateTimeOffset? IssuedAt, DateTimeOffset? ExpiresAt,
    DateTimeOffset? RedeemedAt, string? OrderId, decimal? Revenue);

/// <summary>A request to issue a code.</summary>
/// <param name="CampaignId">The campaign.</param>
/// <param name="CustomerId">Who gets it.</param>
/// <param name="MessageId">The message it is for: issuing again for the same message returns the same code.</param>
/// <param name="PerCustomer">The campaign's per-customer limit.</param>
/// <param name="GeneratedCode">A new code for a generated campaign; null takes one from the pool.</param>
/// <param name="IssuedAt">Now.</param>
/// <param name="ExpiresAt">When it expires.</param>
/// <param name="IssueKey">For codes issued without a message (a journey's coupon step): issuing again with the same key returns the same code.</param>
public sealed record CouponIssue(string CampaignId, string CustomerId, long? MessageId, int PerCustomer, string? GeneratedCode, DateTimeOffset IssuedAt, DateTimeOffset? ExpiresAt,
    string? IssueKey = null);

/// <summary>What issuing did: a code, or why none.</summary>
/// <param name="Code">The code issued (or issued before for the same message).</param>
/// <param name="Refusal"><c>limit</c> (the customer has all they may have) or <c>pool_empty</c>.</param>
public sealed record CouponIssued(CouponCode? Code, string? Refusal);

/// <summary>A campaign's numbers.</summary>
/// <param name="Issued">Codes issued.</param>
/// <param name="Redeemed">Codes used by an order.</param>
/// <param name="Revenue">Total of the orders that used them.</param>
/// <param name="PoolLeft">Pool codes not yet issued.</param>
public sealed record CouponStats(long Issued, long Redeemed, decimal Revenue, long PoolLeft);

/// <summary>What delivery needs of one customer, read in one go.</summary>
/// <param name="RequestedId">The id asked for.</param>
/// <param name="Profile">The profile, or null when no customer has that id.</param>
/// <param name="Consent">The consent ledger, oldest first.</param>
/// <param name="State">The encoded customer state, or null before the runtime has written one.</param>
/// <param name="RecentMarketing">Marketing messages sent since the time asked for.</param>
/// <param name="Suppressed">Channels whose address (from the email and phone traits) is suppressed, with why.</param>
public sealed record DeliveryFacts(
    string RequestedId, CustomerProfile? Profile, IReadOnlyList<ConsentChange> Consent, byte[]? State,
    IReadOnlyList<SentMessage> RecentMarketing, IReadOnlyDictionary<string, string> Suppressed);
