using Nudge.Engine.Customers;
using Nudge.Engine.Rfm;
using Nudge.Engine.Segments;

namespace Nudge.Engine.Definitions;

/// <summary>
/// Every definition in force: tag rules, lifecycle stages, segments, RFM bands and quintile cut points.
/// Immutable; a change makes a new set with a higher <see cref="Version"/>.
/// </summary>
public sealed class DefinitionSet
{
    /// <summary>Builds a set and indexes the event counters its conditions need.</summary>
    public DefinitionSet(long version, IReadOnlyList<TagRule> tags, IReadOnlyList<StageRule> stages, IReadOnlyList<SegmentDefinition> segments, RfmSettings rfm, RfmQuintiles quintiles)
    {
        (Version, Tags, Stages, Segments, Rfm, Quintiles) = (version, tags, stages, segments, rfm, quintiles);
        var conditions = tags.Select(t => t.When).Concat(stages.Select(s => s.When)).Concat(segments.Select(s => s.When)).OfType<Condition>();
        // One counter per (event, filters), keeping as many timestamps as the most demanding condition needs.
        TrackersByEvent = conditions.SelectMany(c => c.Trackers)
            .GroupBy(t => t.Key, StringComparer.Ordinal)
            .Select(g => g.MaxBy(t => t.Capacity)!)
            .GroupBy(t => t.EventName, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<EventTracker>)[.. g], StringComparer.Ordinal);
        TrackerKeys = TrackersByEvent.Values.SelectMany(t => t).Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
        // RFM reads the orders; tags and memberships are compared with what the customer holds.
        Reads = conditions.Aggregate(StateParts.Orders | StateParts.Tags | StateParts.Segments, (reads, c) => reads | c.Reads)
            | tags.Aggregate(StateParts.None, (reads, t) => reads | (t.Value?.Reads ?? StateParts.None));
        TagNames = tags.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        SegmentIds = segments.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        var counters = string.Join('\n', TrackersByEvent.Values.SelectMany(t => t).Select(t => $"{t.Key}#{t.Capacity}").Order(StringComparer.Ordinal));
        // A hash, not the text: every customer stores it, and compares it on every event.
        TrackersSignature = counters.Length == 0 ? 0 : Fnv1a(counters);
    }

    /// <summary>
    /// Identifies the set of event counters. A customer whose counters were built for another set is
    /// rebuilt from the log, so a new condition sees the events from before it existed.
    /// </summary>
    public long TrackersSignature { get; }

    /// <summary>The parts of a customer's state that evaluating these definitions reads (see <see cref="Customers.CustomerEvaluator"/>).</summary>
    public StateParts Reads { get; }

    /// <summary>Names of the rule tags.</summary>
    public IReadOnlySet<string> TagNames { get; }

    /// <summary>Ids of the segments.</summary>
    public IReadOnlySet<string> SegmentIds { get; }

    /// <summary>Increases with every change.</summary>
    public long Version { get; }

    /// <summary>Tag rules.</summary>
    public IReadOnlyList<TagRule> Tags { get; }

    /// <summary>Lifecycle stages in priority order.</summary>
    public IReadOnlyList<StageRule> Stages { get; }

    /// <summary>Segments.</summary>
    public IReadOnlyList<SegmentDefinition> Segments { get; }

    /// <summary>Fixed RFM bands.</summary>
    public RfmSettings Rfm { get; }

    /// <summary>Current quintile cut points.</summary>
    public RfmQuintiles Quintiles { get; }

    /// <summary>Event counters by event name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<EventTracker>> TrackersByEvent { get; }

    /// <summary>Keys of all counters.</summary>
    public IReadOnlySet<string> TrackerKeys { get; }

    // 64-bit FNV-1a: stable across processes and versions (string.GetHashCode is not), and enough to
    // tell one set of counters from another.
    private static long Fnv1a(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return (long)hash;
    }

    /// <summary>The same definitions with new quintile cut points and version.</summary>
    public DefinitionSet WithQuintiles(RfmQuintiles quintiles, long version) => new(version, Tags, Stages, Segments, Rfm, quintiles);
}
