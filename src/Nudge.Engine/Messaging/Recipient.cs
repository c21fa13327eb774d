namespace Nudge.Engine.Messaging;

/// <summary>What delivery knows about a customer when it decides on a message.</summary>
/// <param name="CustomerId">The customer's user id.</param>
/// <param name="Addresses">Where each reachable channel delivers (email address, phone number, customer id for the inbox).</param>
/// <param name="TimeZone">The customer's time zone: calendar days for caps, quiet hours.</param>
/// <param name="Consent">The latest consent per (channel, topic) from the ledger.</param>
/// <param name="Suppressed">Channels whose address is suppressed, with why (hard_bounce, invalid_address, unsubscribed).</param>
/// <param name="EngagedChannels">Channels the customer engages with, most engaged first.</param>
/// <param name="RecentMarketing">Marketing messages sent (or being sent) to the customer in the last 8 days.</param>
public sealed record Recipient(
    string CustomerId,
    IReadOnlyDictionary<string, string> Addresses,
    TimeZoneInfo TimeZone,
    IReadOnlyDictionary<(string Channel, string Topic), bool> Consent,
    IReadOnlyDictionary<string, string> Suppressed,
    IReadOnlyList<string> EngagedChannels,
    IReadOnlyList<SentMessage> RecentMarketing);

/// <summary>A marketing message counted towards caps.</summary>
/// <param name="Channel">Where it went.</param>
/// <param name="At">When it was sent (or handed to the channel).</param>
public readonly record struct SentMessage(string Channel, DateTimeOffset At);

/// <summary>What the policy decided.</summary>
public enum PolicyOutcome
{
    /// <summary>Send now on <see cref="PolicyDecision.Channel"/>.</summary>
    Send,

    /// <summary>Not now: decide again at <see cref="PolicyDecision.DeferUntil"/> (quiet hours).</summary>
    Defer,

    /// <summary>Never: the reason is recorded on the message.</summary>
    Drop,
}

/// <summary>The policy's answer for one message.</summary>
/// <param name="Outcome">Send, defer or drop.</param>
/// <param name="Channel">The channel chosen (for send and defer).</param>
/// <param name="Address">The address on that channel.</param>
/// <param name="Reason">Why it was deferred or dropped, e.g. <c>no_consent:email</c>, <c>daily_cap</c>, <c>quiet_hours</c>.</param>
/// <param name="DeferUntil">When to decide again.</param>
public sealed record PolicyDecision(PolicyOutcome Outcome, string? Channel, string? Address, string? Reason, DateTimeOffset? DeferUntil = null);
