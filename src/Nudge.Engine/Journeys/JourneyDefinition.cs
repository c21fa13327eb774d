using Nudge.Engine.Segments;

namespace Nudge.Engine.Journeys;

/// <summary>
/// One version of a journey: a trigger, entry rules, exit criteria and steps. Read from YAML or JSON
/// by <see cref="JourneyParser"/>; the format is documented in docs/journeys.md.
/// </summary>
/// <param name="Id">Stable id, e.g. <c>abandoned-cart</c>.</param>
/// <param name="Version">1 for the first saved version; each edit of a live journey adds one.</param>
/// <param name="Name">Shown in the API and reports.</param>
/// <param name="Trigger">What lets a customer in.</param>
/// <param name="Reentry">Whether and when a customer who left may enter again.</param>
/// <param name="HoldoutPercent">Share of entrants (0–50) kept out of the journey to measure its uplift, stable per customer.</param>
/// <param name="ExitWhen">Criteria checked before every step (and as events arrive) that end an instance.</param>
/// <param name="Steps">Steps in document order; the first is where an instance starts.</param>
/// <param name="Enabled">A disabled journey lets nobody in; instances already inside go on.</param>
/// <param name="Migrate">Instances on earlier versions move to this one, at the step with the same id (or exit when it is gone).</param>
public sealed record JourneyDefinition(
    string Id,
    int Version,
    string Name,
    JourneyTrigger Trigger,
    Reentry Reentry,
    int HoldoutPercent,
    IReadOnlyList<ExitCriterion> ExitWhen,
    IReadOnlyList<JourneyStep> Steps,
    bool Enabled = true,
    bool Migrate = false)
{
    private Dictionary<string, int>? _index;
    private IReadOnlyList<EventMatch>? _counters;

    /// <summary>The events instances count from entry for the journey's conditions (branches and exit criteria), each once.</summary>
    public IReadOnlyList<EventMatch> Counters => _counters ??= [.. Steps.OfType<BranchStep>().SelectMany(b => b.Paths).Select(p => p.When)
        .Concat(ExitWhen.Select(x => x.When).OfType<JourneyCondition>())
        .SelectMany(c => c.Counters).DistinctBy(SinceEntry.Key)];

    /// <summary>The step with an id, or null.</summary>
    public JourneyStep? Step(string id)
    {
        _index ??= Steps.Select((s, i) => (s.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);
        return _index.TryGetValue(id, out var i) ? Steps[i] : null;
    }

    /// <summary>The id of the step after <paramref name="step"/>: its <c>next</c>, else the following one in the list, else null (the end).</summary>
    public string? After(JourneyStep step)
    {
        if (step.Next is { } next) return next;
        _index ??= Steps.Select((s, i) => (s.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);
        var i = _index[step.Id] + 1;
        return i < Steps.Count ? Steps[i].Id : null;
    }
}

/// <summary>When a customer who left a journey may enter it again.</summary>
/// <param name="Kind">once, always, or every (once per <paramref name="Every"/>).</param>
/// <param name="Every">For <c>every</c>: the least time between two entries.</param>
public sealed record Reentry(ReentryKind Kind, TimeSpan? Every = null)
{
    /// <summary>Once ever.</summary>
    public static readonly Reentry Once = new(ReentryKind.Once);
}

/// <summary>Kinds of <see cref="Reentry"/>.</summary>
public enum ReentryKind
{
    /// <summary>A customer enters at most once, ever.</summary>
    Once,
    /// <summary>A customer may enter again as soon as the previous instance ended.</summary>
    Always,
    /// <summary>A customer may enter again once the given time has passed since the last entry.</summary>
    Every,
}

/// <summary>An event, with property filters, as journeys match it.</summary>
/// <param name="Name">The track event name.</param>
/// <param name="Where">Property filters (as segment event conditions: top level or any product).</param>
public sealed record EventMatch(string Name, EventTracker Where)
{
    /// <summary>Whether an event matches.</summary>
    public bool Matches(string? name, System.Text.Json.JsonElement properties) =>
        string.Equals(Name, name, StringComparison.Ordinal) && Where.Matches(properties);
}

/// <summary>What ends an instance early: an event arriving, or a condition holding before a step.</summary>
/// <param name="Event">An event that ends it as soon as it arrives.</param>
/// <param name="When">A condition over the customer checked before every step.</param>
/// <param name="Reason">The exit reason recorded, e.g. <c>exit:Order Completed</c>.</param>
public sealed record ExitCriterion(EventMatch? Event, JourneyCondition? When, string Reason);

/// <summary>A local time of day, e.g. 09:00, in the customer's time zone.</summary>
/// <param name="Hour">0–23.</param>
/// <param name="Minute">0–59.</param>
public readonly record struct TimeOfDay(int Hour, int Minute)
{
    /// <summary>As written in definitions.</summary>
    public override string ToString() => $"{Hour:00}:{Minute:00}";
}

/// <summary>A date read from the customer: a date trait (birthday, anniversary, membership date) or the expected next order.</summary>
/// <param name="Trait">The trait holding an ISO date; null for <paramref name="NextOrder"/>.</param>
/// <param name="NextOrder">The expected next order: last order plus the customer's average days between orders.</param>
/// <param name="OffsetDays">Days added (negative: before).</param>
/// <param name="At">Local time of day on that date (default 09:00).</param>
/// <param name="Yearly">The trait's month and day recur every year (birthdays, anniversaries).</param>
public sealed record DateSource(string? Trait, bool NextOrder, int OffsetDays, TimeOfDay At, bool Yearly);
