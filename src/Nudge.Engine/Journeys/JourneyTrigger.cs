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
