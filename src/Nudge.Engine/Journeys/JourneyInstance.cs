namespace Nudge.Engine.Journeys;

/// <summary>
/// One customer's way through one journey version. Lives in the customer's state and is written back
/// with it, so a restart continues it at its step; waits are its <see cref="WakeAt"/>, a durable timer.
/// </summary>
public sealed class JourneyInstance
{
    /// <summary>Numbered per customer (1, 2, ...): with the journey, version and step it makes each send's idempotency key.</summary>
    public required long Number { get; init; }

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

    /// <summary>The prefix of this instance's idempotency keys (and message sources), e.g. <c>j:winback:2:c42:7</c>.</summary>
    public string KeyPrefix(string customerId) => $"j:{JourneyId}:{Version}:{customerId}:{Number}";
}

/// <summary>What a customer's past with one journey is: for re-entry rules and date triggers.</summary>
/// <param name="LastEnteredAt">The last entry (into the journey or its holdout).</param>
/// <param name="Entries">How many times they entered.</param>
/// <param name="LastOccurrence">For date triggers: the last date occurrence that let them in.</param>
public readonly record struct JourneyEntry(DateTimeOffset LastEnteredAt, int Entries, DateTimeOffset? LastOccurrence);
