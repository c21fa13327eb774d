namespace Nudge.Engine.Events;

/// <summary>
/// A validated message on its way into the event log: the normalised fields Nudge indexes and acts on,
/// plus the message exactly as the sender wrote it.
/// </summary>
/// <param name="MessageId">The sender's idempotency key; duplicates within the dedupe window are stored once.</param>
/// <param name="Type">identify, track, page, screen, group or alias.</param>
/// <param name="Name">The track event name, or the page/screen name.</param>
/// <param name="UserId">The shop's own customer id, when known.</param>
/// <param name="AnonymousId">The device or browser id used before the customer is known.</param>
/// <param name="PreviousId">For alias: the identity being joined to <paramref name="UserId"/>.</param>
/// <param name="Timestamp">When it happened, corrected for the sender's clock skew.</param>
/// <param name="ReceivedAt">When Nudge received it.</param>
/// <param name="Traits">For identify: each trait as (name, raw JSON value); merged last-write-wins by <paramref name="Timestamp"/>.</param>
/// <param name="Utf8Json">The message as sent: UTF-8 JSON, stored byte for byte.</param>
public sealed record IncomingEvent(
    string MessageId,
    EventType Type,
    string? Name,
    string? UserId,
    string? AnonymousId,
    string? PreviousId,
    DateTimeOffset Timestamp,
    DateTimeOffset ReceivedAt,
    IReadOnlyList<Trait> Traits,
    ReadOnlyMemory<byte> Utf8Json);

/// <summary>A profile trait as a name and its raw JSON value (string, number, bool, object...).</summary>
/// <param name="Name">Trait name, e.g. email, birthday, or any custom name.</param>
/// <param name="JsonValue">The JSON text of the value.</param>
public readonly record struct Trait(string Name, string JsonValue);
