using Nudge.Engine.Messaging.Templates;

namespace Nudge.Channels;

/// <summary>A way out to customers. Implementations classify every failure so delivery knows whether to retry.</summary>
public interface IChannel
{
    /// <summary>The channel name (<see cref="Nudge.Engine.Messaging.ChannelNames"/>).</summary>
    string Name { get; }

    /// <summary>Sends one message. Never throws for a provider's answer: the result says what happened.</summary>
    Task<SendResult> SendAsync(OutgoingMessage message, CancellationToken cancellationToken);
}

/// <summary>A rendered message ready for a channel.</summary>
/// <param name="MessageId">The outbox message id.</param>
/// <param name="IdempotencyKey">The intent's key: providers that deduplicate get it (webhook-id, Message-ID, OutId).</param>
/// <param name="CustomerId">The customer.</param>
/// <param name="Topic">Marketing or transactional: marketing email carries List-Unsubscribe.</param>
/// <param name="Address">Email address, phone number, or customer id (inbox, webhook).</param>
/// <param name="Content">The rendered parts.</param>
/// <param name="UnsubscribeUrl">The one-click unsubscribe link, for marketing.</param>
/// <param name="DataJson">The trigger's object, passed on by webhooks.</param>
public sealed record OutgoingMessage(
    long MessageId, string IdempotencyKey, string CustomerId, string Topic, string Address, RenderedMessage Content,
    string? UnsubscribeUrl = null, string? DataJson = null);

/// <summary>How a send went.</summary>
public enum SendStatus
{
    /// <summary>The provider accepted it.</summary>
    Sent,

    /// <summary>Try again later: timeout, connection refused, 4xx SMTP reply, HTTP 429 or 5xx.</summary>
    Transient,

    /// <summary>Do not try again: the provider refused the message for good.</summary>
    Permanent,

    /// <summary>Do not try again, and stop using the address: it does not exist or is malformed.</summary>
    InvalidAddress,
}

/// <summary>The outcome of a send.</summary>
/// <param name="Status">What happened.</param>
/// <param name="ProviderId">The provider's id for the message, when it gives one.</param>
/// <param name="Error">What went wrong, in the provider's words where possible.</param>
/// <param name="RetryAfter">How long the provider asked us to wait (HTTP Retry-After).</param>
public sealed record SendResult(SendStatus Status, string? ProviderId = null, string? Error = null, TimeSpan? RetryAfter = null)
{
    /// <summary>Accepted.</summary>
    public static SendResult Ok(string? providerId = null) => new(SendStatus.Sent, providerId);

    /// <summary>A failure worth retrying.</summary>
    public static SendResult Retry(string error, TimeSpan? after = null) => new(SendStatus.Transient, Error: error, RetryAfter: after);

    /// <summary>A failure not worth retrying.</summary>
    public static SendResult Fail(string error) => new(SendStatus.Permanent, Error: error);

    /// <summary>The address is no good.</summary>
    public static SendResult BadAddress(string error) => new(SendStatus.InvalidAddress, Error: error);
}
