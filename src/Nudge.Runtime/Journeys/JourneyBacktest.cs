using Nudge.Engine.Customers;
using Nudge.Engine.Definitions;
using Nudge.Engine.Journeys;
using Nudge.Engine.Messaging;
using Nudge.Engine.Segments;
using Nudge.Storage;

namespace Nudge.Runtime.Journeys;

/// <summary>What a journey would have done over a stretch of the stored history.</summary>
/// <param name="JourneyId">The journey.</param>
/// <param name="From">Start of the stretch.</param>
/// <param name="To">End of the stretch.</param>
/// <param name="Customers">Customers whose history was replayed.</param>
/// <param name="Entered">Instances that would have started.</param>
/// <param name="Holdout">Entrants that would have been kept out as the holdout.</param>
/// <param name="Steps">Per step: customers who would have reached it (each counted once per step).</param>
/// <param name="Messages">Messages that would have gone out, per channel (<c>best</c> resolved to the customer's most engaged channel when known).</param>
/// <param name="Ended">Instances that would have ended, by reason; the rest were still inside at the end.</param>
/// <param name="Events">Events replayed.</param>
public sealed record BacktestReport(string JourneyId, DateTimeOffset From, DateTimeOffset To, long Customers, long Entered, long Holdout,
    IReadOnlyDictionary<string, long> Steps, IReadOnlyDictionary<string, long> Messages, IReadOnlyDictionary<string, long> Ended, long Events);

/// <summary>
/// Runs a journey over the stored event history without sending anything: each customer's log is
/// replayed on virtual time through the same fold, definitions and journey runner as the live
/// engine, with the journey switched on from the start date; schedule occurrences and catalog changes
/// in the period happen to everyone at their times. One customer at a time, so memory stays flat.
/// </summary>
public static class JourneyBacktest
{
    /// <summary>Replays every stored customer.</summary>
    /// <param name="store">The store to read.</param>
    /// <param name="definitions">Tags, stages, segments and RFM as in force now.</param>
    /// <param name="fold">How events fold into state.</param>
    /// <param name="journey">The journey to try (saved or not).</param>
    /// <param name="from">When the journey would have started.</param>
    /// <param name="to">When to stop.</param>
    /// <param name="defaultZone">Time zone of customers without a timezone trait.</param>
    /// <param name="progress">Receives the number of customers replayed so far.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public static async Task<BacktestReport> RunAsync(INudgeStore store, DefinitionSet definitions, FoldSettings fold, JourneyDefinition journey,
        DateTimeOffset from, DateTimeOffset to, TimeZoneInfo defaultZone, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var runner = new JourneyRunner(new JourneySet([journey with { Enabled = true }]), defaultZone);
        // What happens to everyone at set times: schedule occurrences, price drops and restocks.
        List<(DateTimeOffset At, Action<CustomerSimulation> Happen)> happenings = [.. Occurrences(journey.Trigger as ScheduleTrigger, from, to)
            .Select(at => (at, (Action<CustomerSimulation>)(sim => Scheduled(sim, journey, at))))];
        if (journey.Trigger is CatalogTrigger)
            foreach (var offer in await OffersAsync(store, from, to, cancellationToken)) happenings.Add((offer.At, sim => sim.Offer(offer)));
        happenings.Sort((a, b) => a.At.CompareTo(b.At));
        long customers = 0, events = 0, entered = 0, holdout = 0;
        Dictionary<string, long> steps = new(StringComparer.Ordinal), messages = new(StringComparer.Ordinal), ended = new(StringComparer.Ordinal);
        List<string> ids = [];
        await foreach (var state in store.ScanStatesAsync(cancellationToken)) ids.Add(CustomerStateCodec.CustomerId(state));
        foreach (var id in ids)
        {
            var log = await store.ReadCustomerLogAsync(id, long.MaxValue, cancellationToken);
            var sim = new CustomerSimulation(id, definitions, fold, runner) { JourneysFrom = from };
            var next = 0;
            foreach (var e in log)
            {
                if (e.Timestamp > to) break;
                for (; next < happenings.Count && happenings[next].At <= e.Timestamp; next++) happenings[next].Happen(sim);
                sim.Apply(e);
                events++;
            }

            for (; next < happenings.Count; next++) happenings[next].Happen(sim);
            sim.RunUntil(to);
            Tally(sim, steps, messages, ended, ref entered, ref holdout);
            customers++;
            progress?.Report(customers);
        }

        return new BacktestReport(journey.Id, from, to, customers, entered, holdout, steps, messages, ended, events);
    }

    private static void Scheduled(CustomerSimulation sim, JourneyDefinition journey, DateTimeOffset occurrence)
    {
        sim.RunUntil(occurrence);
        if (journey.Trigger is ScheduleTrigger { Segment: { } segment } && !sim.State.Segments.ContainsKey(segment)) return;
        sim.Schedule(journey.Id, occurrence);
    }

    private static async Task<List<CatalogOffer>> OffersAsync(INudgeStore store, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        List<CatalogOffer> offers = [];
        long after = 0;
        for (IReadOnlyList<Engine.Catalog.CatalogChange> page; (page = await store.ReadCatalogChangesAsync(after, 10_000, cancellationToken)).Count > 0; after = page[^1].Position)
        {
            foreach (var change in page.Where(c => c.At >= from && c.At <= to))
                if (await CatalogTriggers.OfferAsync(store, change, cancellationToken) is { } offer) offers.Add(offer);
        }

        return offers;
    }

    private static List<DateTimeOffset> Occurrences(ScheduleTrigger? schedule, DateTimeOffset from, DateTimeOffset to)
    {
        List<DateTimeOffset> list = [];
        for (var at = schedule?.NextAfter(from.AddTicks(-1)); at is { } t && t <= to && list.Count < 10_000; at = schedule!.NextAfter(t)) list.Add(t);
        return list;
    }

    private static void Tally(CustomerSimulation sim, Dictionary<string, long> steps, Dictionary<string, long> messages, Dictionary<string, long> ended, ref long entered, ref long holdout)
    {
        foreach (var step in sim.Activity.Where(a => a.Kind == ActivityKinds.Step).Select(a => a.Step!).Distinct(StringComparer.Ordinal))
            steps[step] = steps.GetValueOrDefault(step) + 1;
        foreach (var a in sim.Activity)
        {
            if (a.Kind == ActivityKinds.Entered) entered++;
            else if (a.Kind == ActivityKinds.Holdout) holdout++;
            else if (a.Kind == ActivityKinds.Ended) ended[a.Reason!] = ended.GetValueOrDefault(a.Reason!) + 1;
        }

        foreach (var (_, effect) in sim.Effects)
        {
            if (effect is not SendEffect send) continue;
            var channel = send.Intent.Channel == ChannelNames.Best ? StatFields.PreferredChannel(sim.State) ?? ChannelNames.Best : send.Intent.Channel;
            messages[channel] = messages.GetValueOrDefault(channel) + 1;
        }
    }
}
