using Nudge.Engine.Customers;
using Nudge.Engine.Definitions;
using Nudge.Engine.Segments;
using Nudge.Storage;

namespace Nudge.Runtime.Segments;

/// <summary>Counts and a sample of the customers a segment would hold.</summary>
/// <param name="Count">Customers matching.</param>
/// <param name="Sample">Some of them (the first found).</param>
/// <param name="Customers">Customers evaluated.</param>
/// <param name="ScannedEvents">Events read from the log to count events for conditions the live customers do not count yet.</param>
public sealed record SegmentPreview(long Count, IReadOnlyList<string> Sample, long Customers, long ScannedEvents);

/// <summary>
/// Evaluates segments over every stored customer at once, from their written-back state: the preview
/// before saving, and the full re-evaluation. Event conditions the live customers do not count yet
/// (a new condition) are counted from the log first, so a preview is exact.
/// </summary>
public static class SegmentEvaluation
{
    private const int LogPage = 10_000;

    /// <summary>
    /// Evaluates segments over all stored customers; returns the members of each. The store is read in
    /// one part per core, each decoding and evaluating its own customers.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, List<string>>> MembersAsync(
        INudgeStore store, DefinitionSet current, IReadOnlyList<SegmentDefinition> segments, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var backfill = await CountFromLogAsync(store, current, segments, cancellationToken);
        var parts = Environment.ProcessorCount;
        var reads = segments.Aggregate(StateParts.None, (all, s) => all | s.When.Reads);
        var found = new List<string>[parts][];
        await store.VisitStatesAsync(parts, part =>
        {
            var mine = found[part] = [.. segments.Select(_ => new List<string>())];
            return bytes =>
            {
                var customer = Decode(bytes, reads, backfill.Counters);
                var evaluation = new Evaluation(now);
                for (var i = 0; i < segments.Count; i++)
                    if (segments[i].When.Evaluate(customer, evaluation)) mine[i].Add(customer.CustomerId);
            };
        }, cancellationToken);

        return segments.Select((s, i) => (s.Id, Members: found.Where(f => f is not null).SelectMany(f => f[i]).ToList()))
            .ToDictionary(x => x.Id, x => x.Members, StringComparer.Ordinal);
    }


    /// <summary>A count and sample for one segment definition, before it is saved.</summary>
    public static async Task<SegmentPreview> PreviewAsync(INudgeStore store, DefinitionSet current, SegmentDefinition segment, DateTimeOffset now, int sample, CancellationToken cancellationToken)
    {
        var backfill = await CountFromLogAsync(store, current, [segment], cancellationToken);
        long count = 0, customers = 0;
        List<string> found = [];
        await foreach (var bytes in store.ScanStatesAsync(cancellationToken))
        {
            customers++;
            var customer = Decode(bytes, segment.When.Reads, backfill.Counters);
            if (!segment.When.Evaluate(customer, new Evaluation(now))) continue;
            count++;
            if (found.Count < sample) found.Add(customer.CustomerId);
        }

        return new SegmentPreview(count, found, customers, backfill.ScannedEvents);
    }

    /// <summary>
    /// The parts of a stored customer the conditions read (a million customers decode in a fraction of
    /// the time when most parts are stepped over), with the counters a new condition needs counted from
    /// the log added.
    /// </summary>
    private static CustomerState Decode(ReadOnlySpan<byte> bytes, StateParts reads, Dictionary<string, Dictionary<string, RecentTimes>> backfill)
    {
        var customer = CustomerStateCodec.Decode(bytes, reads);
        if (backfill.TryGetValue(customer.CustomerId, out var counters))
            foreach (var (key, times) in counters) customer.Trackers[key] = times;
        return customer;
    }

    private static async Task<(Dictionary<string, Dictionary<string, RecentTimes>> Counters, long ScannedEvents)> CountFromLogAsync(
        INudgeStore store, DefinitionSet current, IReadOnlyList<SegmentDefinition> segments, CancellationToken cancellationToken)
    {
        // Counters the live customers keep already (with enough room) need no backfill.
        var missing = segments.SelectMany(s => s.When.Trackers)
            .Where(t => !current.TrackersByEvent.TryGetValue(t.EventName, out var live) || !live.Any(l => l.Key == t.Key && l.Capacity >= t.Capacity))
            .GroupBy(t => t.EventName, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        Dictionary<string, Dictionary<string, RecentTimes>> counters = new(StringComparer.Ordinal);
        if (missing.Count == 0) return (counters, 0);

        long after = 0, scanned = 0;
        while (true)
        {
            var page = await store.ReadLogForDispatchAsync(after, LogPage, cancellationToken);
            if (page.Count == 0) break;
            after = page[^1].Event.Position;
            scanned += page.Count;
            foreach (var (e, owner) in page)
            {
                if (owner is null || e.Name is null || !missing.TryGetValue(e.Name, out var trackers)) continue;
                using var doc = System.Text.Json.JsonDocument.Parse(e.Json);
                var properties = doc.RootElement.TryGetProperty("properties", out var p) ? p : default;
                foreach (var tracker in trackers.Where(t => t.Matches(properties)))
                {
                    if (!counters.TryGetValue(owner, out var mine)) counters[owner] = mine = new(StringComparer.Ordinal);
                    if (!mine.TryGetValue(tracker.Key, out var times)) mine[tracker.Key] = times = new RecentTimes(tracker.Capacity);
                    times.Add(e.Timestamp);
                }
            }
        }

        return (counters, scanned);
    }
}
