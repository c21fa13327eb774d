namespace Nudge.Engine.Messaging;

/// <summary>Where a message is between intent and outcome.</summary>
public static class MessageStatus
{
    /// <summary>Waiting for delivery to decide on it.</summary>
    public const string Queued = "queued";

    /// <summary>Taken by a delivery worker, not yet decided.</summary>
    public const string Claimed = "claimed";

    /// <summary>Held by quiet hours until its due time, then decided again.</summary>
    public const string Deferred = "deferred";

    /// <summary>A transient failure: tried again at its due time.</summary>
    public const string Retry = "retry";

    /// <summary>Decided and being handed to the channel; counts towards caps.</summary>
    public const string Sending = "sending";

    /// <summary>The channel accepted it.</summary>
    public const string Sent = "sent";

    /// <summary>The policy refused it; the reason says which rule.</summary>
    public const string Dropped = "dropped";

    /// <summary>Given up on: a permanent error, the last retry, a template that does not render, or an interrupted send.</summary>
    public const string Dead = "dead";

    /// <summary>Statuses delivery picks up when due.</summary>
    public static readonly IReadOnlyList<string> Due = [Queued, Deferred, Retry];

    /// <summary>Every status.</summary>
    public static readonly IReadOnlyList<string> All = [Queued, Claimed, Deferred, Retry, Sending, Sent, Dropped, Dead];
}
