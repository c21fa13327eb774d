using Nudge.Engine.Customers;

namespace Nudge.Engine.Journeys;

/// <summary>What lets a customer into a journey.</summary>
public abstract record JourneyTrigger
{
    /// <summary>As written in definitions, for reports.</summary>
    public abstract string Describe();
}

/// <summary>An event of the customer (with property filters), e.g. Product Added.</summary>
/// <param name="Event">The event.</param>
public sealed record EventTrigger(EventMatch Event) : JourneyTrigger
{
    /// <inheritdoc/>
    public override string Describe() => $"event {Event.Name}";
}

/// <summary>
/// A change the definitions made of the customer: a segment entered or left, a tag added, a lifecycle
/// stage changed (to a given stage, or any).
/// </summary>
/// <param name="Kind">One of <see cref="ChangeKinds"/>: segment_entered, segment_left, tag_added, stage_changed.</param>
/// <param name="Name">The segment id or tag name; for stages, the stage entered (null: any).</param>
/// <param name="Value">For tags: the value required (null: any).</param>
public sealed record ChangeTrigger(string Kind, string? Name, string? Value) : JourneyTrigger
{
    /// <summary>Whether a change lets the customer in.</summary>
    public bool Matches(CustomerChange change)
    {
        if (Kind == ChangeKinds.StageChanged) return change.Kind == ChangeKinds.StageChanged && change.Value is not null && (Name is null || Name == change.Value);
        // A tag rule whose value changes counts as the tag being added with that value.
        if (Kind == ChangeKinds.TagAdded)
            return change.Kind is ChangeKinds.TagAdded or ChangeKinds.TagChanged && change.Name == Name && (Value is null || Value == change.Value);
        return change.Kind == Kind && change.Name == Name;
    }

    /// <inheritdoc/>
    public override string Describe() => $"{Kind} {Name}";
}

/// <summary>A date of the customer (birthday, anniversary, membership date, expected next order), with an offset, at a local time.</summary>
/// <param name="Date">The date and when on it.</param>
public sealed record DateTrigger(DateSource Date) : JourneyTrigger
{
    /// <inheritdoc/>
    public override string Describe() => $"date {Date.Trait ?? "next_order"}";
}

/// <summary>
/// A send at set times to everyone in a segment (or every customer): a broadcast, or the start of a
/// multi-phase promotion. Each occurrence lets each member in once.
/// </summary>
/// <param name="Segment">The segment whose members enter; null: every customer.</param>
/// <param name="At">The first occurrence.</param>
/// <param name="Every">For a recurring schedule: the time between occurrences.</param>
/// <param name="Until">For a recurring schedule: no occurrence after this.</param>
/// <param name="When">A condition each customer must meet at the occurrence (segment grammar), besides the segment.</param>
public sealed record ScheduleTrigger(string? Segment, DateTimeOffset At, TimeSpan? Every, DateTimeOffset? Until, Segments.Condition? When = null) : JourneyTrigger
{
    /// <summary>The latest occurrence at or before <paramref name="now"/>, or null when the first is still ahead.</summary>
    public DateTimeOffset? LatestDue(DateTimeOffset now)
    {
        if (now < At) return null;
        if (Every is not { } every) return At;
        var last = Until is { } until && until < now ? until : now;
        return At + every * Math.Floor((last - At) / every);
    }

    /// <summary>The first occurrence after <paramref name="after"/>, or null when there is none.</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset after)
    {
        if (after < At) return At;
        if (Every is not { } every) return null;
        var next = At + every * (Math.Floor((after - At) / every) + 1);
        return Until is { } until && next > until ? null : next;
    }

    /// <inheritdoc/>
    public override string Describe() => $"schedule {Segment ?? "everyone"}";
}
