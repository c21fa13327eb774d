using Nudge.Engine.Customers;
using Nudge.Engine.Segments;

namespace Nudge.Engine.Journeys;

/// <summary>
/// A condition in a journey (branch paths, exit criteria): everything a segment can test, plus
/// segment membership, events since the instance entered, and engagement with its own messages.
/// </summary>
public abstract record JourneyCondition
{
    /// <summary>Whether it holds for the customer and instance at <paramref name="at"/>.</summary>
    public abstract bool Evaluate(CustomerState customer, JourneyInstance instance, DateTimeOffset at);

    /// <summary>Events the instance must count from entry for this condition.</summary>
    public virtual IEnumerable<EventMatch> Counters => [];
}

/// <summary>A segment-grammar condition over the customer (traits, stats, tags, RFM, stage, events in windows).</summary>
/// <param name="Condition">The condition.</param>
public sealed record CustomerCondition(Condition Condition) : JourneyCondition
{
    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, JourneyInstance instance, DateTimeOffset at) => Condition.Evaluate(customer, new Evaluation(at));
}

/// <summary>Every part holds.</summary>
/// <param name="Parts">The parts.</param>
public sealed record AllOf(IReadOnlyList<JourneyCondition> Parts) : JourneyCondition
{
    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, JourneyInstance instance, DateTimeOffset at) => Parts.All(p => p.Evaluate(customer, instance, at));

    /// <inheritdoc/>
    public override IEnumerable<EventMatch> Counters => Parts.SelectMany(p => p.Counters);
}

/// <summary>At least one part holds.</summary>
/// <param name="Parts">The parts.</param>
public sealed record AnyOf(IReadOnlyList<JourneyCondition> Parts) : JourneyCondition
{
    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, JourneyInstance instance, DateTimeOffset at) => Parts.Any(p => p.Evaluate(customer, instance, at));

    /// <inheritdoc/>
    public override IEnumerable<EventMatch> Counters => Parts.SelectMany(p => p.Counters);
}

/// <summary>The part does not hold.</summary>
/// <param name="Part">The part.</param>
public sealed record NoneOf(JourneyCondition Part) : JourneyCondition
{
    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, JourneyInstance instance, DateTimeOffset at) => !Part.Evaluate(customer, instance, at);

    /// <inheritdoc/>
    public override IEnumerable<EventMatch> Counters => Part.Counters;
}

/// <summary>The customer is in a segment now.</summary>
/// <param name="Segment">The segment id.</param>
public sealed record InSegment(string Segment) : JourneyCondition
{
    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, JourneyInstance instance, DateTimeOffset at) => customer.Segments.ContainsKey(Segment);
}

/// <summary>How many times an event happened since the instance entered, compared (default: at least once).</summary>
/// <param name="Event">The event and its filters.</param>
/// <param name="Count">The comparison.</param>
public sealed record SinceEntry(EventMatch Event, Comparison Count) : JourneyCondition
{
    /// <summary>The key the instance counts it under.</summary>
    public static string Key(EventMatch e) => "event:" + e.Where.Key;

    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, JourneyInstance instance, DateTimeOffset at) =>
        Count.Holds(instance.Counts.GetValueOrDefault(Key(Event)));

    /// <inheritdoc/>
    public override IEnumerable<EventMatch> Counters => [Event];
}

/// <summary>The customer opened or clicked a message of this instance (of one step, when given).</summary>
/// <param name="Action">opened or clicked (a click counts as opened too).</param>
/// <param name="Step">Only messages of this step; null: any.</param>
public sealed record Engaged(string Action, string? Step) : JourneyCondition
{
    /// <summary>The key the instance counts engagement under.</summary>
    public static string Key(string action, string? step) => step is null ? $"@{action}" : $"@{action}:{step}";

    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, JourneyInstance instance, DateTimeOffset at) =>
        instance.Counts.GetValueOrDefault(Key(Action, Step)) > 0;
}
