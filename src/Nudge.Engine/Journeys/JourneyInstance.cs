namespace Nudge.Engine.Journeys;

/// <summary>
/// One customer's way through one journey version. Lives in the customer's state and is written back
/// with it, so a restart continues it at its step; waits are its <see cref="WakeAt"/>, a durable timer.
/// </summary>
public sealed class JourneyInstance
{
    /// <summary>Numbered per customer (1, 2, ...): with the journey, version and step it makes each send's idempotency key.</summary>
    public required long Number { get; init; }

    /// <summary>
    /// Names the instance in its idempotency keys, the same on every replay: <c>e</c> and the triggering
    /// event's log position, <c>s</c>/<c>d</c>/<c>c</c> and the schedule, date or catalog change time, or
    /// <c>n</c> and the number for a change of the customer's segments, tags or stage.
    /// </summary>
    public required string Trigger { get; init; }

    /// <summary>The journey.</summary>
    public required string JourneyId { get; init; }

    /// <summary>The version the instance runs on (moved forward when an edit migrates instances).</summary>
    public required int Version { get; set; }

    /// <summary>The step it is at: waiting in, or about to run.</summary>
    public required string StepId { get; set; }

    /// <summary>When it entered.</summary>
    public required DateTimeOffset EnteredAt { get; init; }

    /// <summary>When it reached <see cref="StepId"/>; waits and bounds count from here.</summary>
    public DateTimeOffset StepSince { get; set; }

    /// <summary>When the current step runs or its bound passes; null while it waits only for an event.</summary>
    public DateTimeOffset? WakeAt { get; set; }

    /// <summary>The triggering object (event properties, the change, the date) as JSON: "the item you left in your cart".</summary>
    public string? TriggerJson { get; init; }

    /// <summary>Counts since entry, by counter key: events branch conditions test, and engagement with this instance's messages.</summary>
    public Dictionary<string, int> Counts { get; } = new(StringComparer.Ordinal);

    /// <summary>The prefix of this instance's idempotency keys (and message sources), e.g. <c>j:winback:2:c42:e1234</c>.</summary>
    public string KeyPrefix(string customerId) => $"j:{JourneyId}:{Version}:{customerId}:{Trigger}";

    /// <summary>The step that sent a message of this instance (any version of it), from the message's source; null when another sent it.</summary>
    public string? StepOf(string source, string customerId)
    {
        var head = $"j:{JourneyId}:";
        if (!source.StartsWith(head, StringComparison.Ordinal)) return null;
        var afterVersion = source.IndexOf(':', head.Length);
        var mine = $"{customerId}:{Trigger}:";
        if (afterVersion < 0 || string.CompareOrdinal(source, afterVersion + 1, mine, 0, mine.Length) != 0) return null;
        var step = source[(afterVersion + 1 + mine.Length)..];
        var visit = step.IndexOf(':', StringComparison.Ordinal);
        return visit < 0 ? step : step[..visit];
    }
}

/// <summary>What a customer's past with one journey is: for re-entry rules and date triggers.</summary>
/// <param name="LastEnteredAt">The last entry (into the journey or its holdout).</param>
/// <param name="Entries">How many times they entered.</param>
/// <param name="LastOccurrence">For date triggers: the last date occurrence that let them in.</param>
public readonly record struct JourneyEntry(DateTimeOffset LastEnteredAt, int Entries, DateTimeOffset? LastOccurrence);
