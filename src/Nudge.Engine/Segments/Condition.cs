using Nudge.Engine.Customers;

namespace Nudge.Engine.Segments;

/// <summary>
/// A condition over one customer: traits, stats, tags, RFM, lifecycle stage and events in time
/// windows, combined with all/any/not. Parsed from JSON by <see cref="ConditionParser"/>.
/// </summary>
public abstract record Condition
{
    /// <summary>Whether the customer meets the condition at <see cref="Evaluation.Now"/>; notes when time alone could change the answer.</summary>
    public abstract bool Evaluate(CustomerState customer, Evaluation evaluation);

    /// <summary>The event counters this condition reads.</summary>
    public virtual IEnumerable<EventTracker> Trackers => [];

    /// <summary>The parts of a customer's state this condition reads (see <see cref="CustomerStateCodec.Decode(ReadOnlySpan{byte}, StateParts)"/>).</summary>
    public abstract StateParts Reads { get; }

    /// <summary>What some conditions read together.</summary>
    protected static StateParts ReadsOf(IEnumerable<Condition> parts) => parts.Aggregate(StateParts.None, (reads, part) => reads | part.Reads);

    /// <summary>Ordinal membership without LINQ: conditions run for every customer on every change.</summary>
    protected static bool OneOf(string[] values, string value)
    {
        for (var i = 0; i < values.Length; i++)
            if (string.Equals(values[i], value, StringComparison.Ordinal)) return true;
        return false;
    }
}

/// <summary>Every part holds (true when empty).</summary>
/// <param name="Parts">The conditions.</param>
public sealed record AllCondition(IReadOnlyList<Condition> Parts) : Condition
{
    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, Evaluation evaluation)
    {
        // Every part is evaluated, not short-circuited, so that each reports when it could change.
        var result = true;
        foreach (var part in _parts) result &= part.Evaluate(customer, evaluation);
        return result;
    }

    /// <inheritdoc/>
    public override StateParts Reads => ReadsOf(_parts);

    // An array, not the list: enumerating an IReadOnlyList allocates, once per customer per segment.
    private readonly Condition[] _parts = [.. Parts];

    /// <inheritdoc/>
    public override IEnumerable<EventTracker> Trackers => Parts.SelectMany(p => p.Trackers);
}

/// <summary>At least one part holds.</summary>
/// <param name="Parts">The conditions.</param>
public sealed record AnyCondition(IReadOnlyList<Condition> Parts) : Condition
{
    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, Evaluation evaluation)
    {
        var result = false;
        foreach (var part in _parts) result |= part.Evaluate(customer, evaluation);
        return result;
    }

    /// <inheritdoc/>
    public override StateParts Reads => ReadsOf(_parts);

    private readonly Condition[] _parts = [.. Parts];

    /// <inheritdoc/>
    public override IEnumerable<EventTracker> Trackers => Parts.SelectMany(p => p.Trackers);
}

/// <summary>The part does not hold.</summary>
/// <param name="Part">The condition negated.</param>
public sealed record NotCondition(Condition Part) : Condition
{
    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, Evaluation evaluation) => !Part.Evaluate(customer, evaluation);

    /// <inheritdoc/>
    public override StateParts Reads => Part.Reads;

    /// <inheritdoc/>
    public override IEnumerable<EventTracker> Trackers => Part.Trackers;
}

/// <summary>A numeric stat compared, e.g. orders ≥ 2 within 30 days; false when the stat has no value.</summary>
/// <param name="Stat">The stat.</param>
/// <param name="Window">For windowed stats: the last N days.</param>
/// <param name="Compare">The comparison.</param>
public sealed record StatCondition(StatField Stat, TimeSpan? Window, Comparison Compare) : Condition
{
    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, Evaluation evaluation)
    {
        if (Stat.Clock is StatClock.DaysSince or StatClock.HoursSince && StatFields.Since(customer, Stat.Name) is { } since)
        {
            // The value grows with time, so each threshold is crossed at a known instant (a strict
            // comparison one millisecond later).
            var unit = Stat.Clock == StatClock.DaysSince ? TimeSpan.FromDays(1) : TimeSpan.FromHours(1);
            foreach (var (op, operand) in Compare.Tests)
            {
                var crossing = since + unit * operand;
                evaluation.ChangesAt(op is CompareOp.Gt or CompareOp.Lte ? crossing.AddMilliseconds(1) : crossing);
            }
        }

        return StatFields.Number(customer, Stat.Name, evaluation, Window) is { } value && Compare.Holds(value);
    }

    /// <inheritdoc/>
    public override StateParts Reads => Stat.Reads;
}

/// <summary>A text stat or trait equal to one of some values (or not).</summary>
/// <param name="Source">What is read: a text stat, or a trait.</param>
/// <param name="Name">The stat or trait name.</param>
/// <param name="Values">Accepted values; empty means "has any value".</param>
/// <param name="Negate">True for <c>ne</c>: the value must be none of <paramref name="Values"/>.</param>
public sealed record TextCondition(TextSource Source, string Name, IReadOnlyList<string> Values, bool Negate) : Condition
{
    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, Evaluation evaluation)
    {
        var value = Source == TextSource.Stat ? StatFields.Text(customer, Name)
            : customer.Traits.TryGetValue(Name, out var trait) ? Traits.Text(trait.JsonValue) : null;
        if (_values.Length == 0) return value is not null != Negate;
        if (value is null) return Negate;
        return OneOf(_values, value) != Negate;
    }

    /// <inheritdoc/>
    public override StateParts Reads => Source == TextSource.Stat ? StatFields.All.GetValueOrDefault(Name)?.Reads ?? StateParts.All : StateParts.Traits;

    private readonly string[] _values = [.. Values];
}

/// <summary>Where a <see cref="TextCondition"/> reads from.</summary>
public enum TextSource
{
    /// <summary>A text stat.</summary>
    Stat,
    /// <summary>A profile trait.</summary>
    Trait,
    /// <summary>A tag's value.</summary>
    Tag,
}

/// <summary>A numeric trait compared.</summary>
/// <param name="Name">The trait.</param>
/// <param name="Compare">The comparison.</param>
public sealed record TraitNumberCondition(string Name, Comparison Compare) : Condition
{
    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, Evaluation evaluation) =>
        customer.Traits.TryGetValue(Name, out var trait) && Traits.Number(trait.JsonValue) is { } value && Compare.Holds(value);

    /// <inheritdoc/>
    public override StateParts Reads => StateParts.Traits;
}

/// <summary>The customer carries a tag (with one of some values, when given).</summary>
/// <param name="Tag">Tag name.</param>
/// <param name="Values">Accepted values; empty means any.</param>
public sealed record TagCondition(string Tag, IReadOnlyList<string> Values) : Condition
{
    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, Evaluation evaluation) =>
        customer.Tags.TryGetValue(Tag, out var tag) && (_values.Length == 0 || OneOf(_values, tag.Value));

    /// <inheritdoc/>
    public override StateParts Reads => StateParts.Tags;

    private readonly string[] _values = [.. Values];
}

/// <summary>The customer is in one of some lifecycle stages.</summary>
/// <param name="Stages">Stage names.</param>
public sealed record StageCondition(IReadOnlyList<string> Stages) : Condition
{
    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, Evaluation evaluation) =>
        customer.Stage is { } stage && OneOf(_stages, stage.Name);

    /// <inheritdoc/>
    public override StateParts Reads => StateParts.None;

    private readonly string[] _stages = [.. Stages];
}

/// <summary>The customer's named RFM segment is one of some names.</summary>
/// <param name="Names">RFM segment names, e.g. Champions.</param>
public sealed record RfmSegmentCondition(IReadOnlyList<string> Names) : Condition
{
    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, Evaluation evaluation) =>
        customer.Rfm is { Segment: { } name } && OneOf(_names, name);

    /// <inheritdoc/>
    public override StateParts Reads => StateParts.None;

    private readonly string[] _names = [.. Names];
}

/// <summary>An RFM quintile score (1–5) compared, or an RFM band tested.</summary>
/// <param name="Dimension">r, f or m.</param>
/// <param name="Compare">For scores: the comparison.</param>
/// <param name="Bands">For bands: the accepted band names.</param>
public sealed record RfmCondition(char Dimension, Comparison? Compare, IReadOnlyList<string> Bands) : Condition
{
    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, Evaluation evaluation)
    {
        if (customer.Rfm is not { } rfm) return false;
        if (Compare is not null)
        {
            var score = Dimension switch { 'r' => rfm.R, 'f' => rfm.F, _ => rfm.M };
            return Compare.Holds(score);
        }

        var band = Dimension switch { 'r' => rfm.RecencyBand, 'f' => rfm.FrequencyBand, _ => rfm.MonetaryBand };
        return band is not null && OneOf(_bands, band);
    }

    /// <inheritdoc/>
    public override StateParts Reads => StateParts.None;

    private readonly string[] _bands = [.. Bands];
}

/// <summary>How many times an event happened in the last N days, compared (default: at least once).</summary>
/// <param name="Tracker">The event and its property filters.</param>
/// <param name="Window">The last N days.</param>
/// <param name="Count">The comparison on the count.</param>
public sealed record EventCondition(EventTracker Tracker, TimeSpan Window, Comparison Count) : Condition
{
    /// <inheritdoc/>
    public override bool Evaluate(CustomerState customer, Evaluation evaluation)
    {
        if (!customer.Trackers.TryGetValue(Tracker.Key, out var times)) return Count.Holds(0);
        var now = evaluation.NowUnixMilliseconds;
        evaluation.ChangesAtUnixMilliseconds(times.NextChange(now, _windowMs));
        return Count.Holds(times.CountWithin(now, _windowMs));
    }

    private readonly long _windowMs = (long)Window.TotalMilliseconds;

    /// <inheritdoc/>
    public override IEnumerable<EventTracker> Trackers => [Tracker];

    /// <inheritdoc/>
    public override StateParts Reads => StateParts.Trackers;
}
