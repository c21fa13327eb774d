namespace Nudge.Engine.Journeys;

/// <summary>
/// Every journey version in force, indexed for the runner: the current version of each journey lets
/// customers in; older versions stay for the instances still running on them. Immutable.
/// </summary>
public sealed class JourneySet
{
    /// <summary>No journeys.</summary>
    public static readonly JourneySet Empty = new([]);

    private readonly Dictionary<(string, int), JourneyDefinition> _versions = [];

    /// <summary>Indexes the given versions (any order).</summary>
    public JourneySet(IEnumerable<JourneyDefinition> versions)
    {
        foreach (var v in versions) _versions[(v.Id, v.Version)] = v;
        Current = _versions.Values.GroupBy(v => v.Id, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.MaxBy(v => v.Version)!, StringComparer.Ordinal);
        EventTriggered = Current.Values.Where(j => j.Trigger is EventTrigger).GroupBy(j => ((EventTrigger)j.Trigger).Event.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<JourneyDefinition>)[.. g], StringComparer.Ordinal);
        ChangeTriggered = [.. Current.Values.Where(j => j.Trigger is ChangeTrigger)];
        DateTriggered = [.. Current.Values.Where(j => j.Trigger is DateTrigger)];
        Scheduled = [.. Current.Values.Where(j => j.Trigger is ScheduleTrigger)];
        CatalogTriggered = [.. Current.Values.Where(j => j.Trigger is CatalogTrigger)];
    }

    /// <summary>The latest version of each journey, by id.</summary>
    public IReadOnlyDictionary<string, JourneyDefinition> Current { get; }

    /// <summary>Current journeys with an event trigger, by event name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<JourneyDefinition>> EventTriggered { get; }

    /// <summary>Current journeys triggered by segment, tag or stage changes.</summary>
    public IReadOnlyList<JourneyDefinition> ChangeTriggered { get; }

    /// <summary>Current journeys triggered by a date of the customer.</summary>
    public IReadOnlyList<JourneyDefinition> DateTriggered { get; }

    /// <summary>Current journeys sent on a schedule to a segment.</summary>
    public IReadOnlyList<JourneyDefinition> Scheduled { get; }

    /// <summary>Current journeys triggered by price drops and restocks.</summary>
    public IReadOnlyList<JourneyDefinition> CatalogTriggered { get; }

    /// <summary>Whether there is nothing to run.</summary>
    public bool IsEmpty => _versions.Count == 0;

    /// <summary>A version, or null when it is not (or no longer) known.</summary>
    public JourneyDefinition? Find(string id, int version) => _versions.GetValueOrDefault((id, version));

    /// <summary>All versions.</summary>
    public IEnumerable<JourneyDefinition> Versions => _versions.Values;
}
