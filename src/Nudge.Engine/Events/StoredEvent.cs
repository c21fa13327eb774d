namespace Nudge.Engine.Events;

/// <summary>An event as committed to the event log.</summary>
/// <param name="Position">Its place in the log; increases with every committed event.</param>
/// <param name="MessageId">The sender's message id (or one Nudge generated).</param>
/// <param name="Type">identify, track, page, screen, group or alias.</param>
/// <param name="Name">The track event name, or the page/screen name.</param>
/// <param name="UserId">The customer's id, when the sender knew it.</param>
/// <param name="AnonymousId">The anonymous id the sender used.</param>
/// <param name="Timestamp">When it happened (skew-corrected).</param>
/// <param name="ReceivedAt">When Nudge received it.</param>
/// <param name="Json">The message as sent.</param>
public sealed record StoredEvent(
    long Position,
    string MessageId,
    EventType Type,
    string? Name,
    string? UserId,
    string? AnonymousId,
    DateTimeOffset Timestamp,
    DateTimeOffset ReceivedAt,
    string Json);

/// <summary>What one append to the event log did.</summary>
/// <param name="Stored">Events newly committed.</param>
/// <param name="Duplicates">Events skipped because their message id was seen within the dedupe window.</param>
public readonly record struct AppendResult(int Stored, int Duplicates)
{
    /// <summary>Adds two results.</summary>
    public static AppendResult operator +(AppendResult a, AppendResult b) => new(a.Stored + b.Stored, a.Duplicates + b.Duplicates);

    /// <summary>Adds two results.</summary>
    public static AppendResult Add(AppendResult a, AppendResult b) => a + b;
}
