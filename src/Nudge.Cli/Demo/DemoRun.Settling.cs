using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Engine.Journeys;
using Nudge.Runtime.Customers;
using Nudge.Runtime.Delivery;
using Nudge.Runtime.Dispatch;
using Nudge.Runtime.Journeys;

namespace Nudge.Cli.Demo;

internal sealed partial class DemoRun
{
    /// <summary>
    /// Lets the engine do everything due by <paramref name="now"/>, then delivers what it asked for,
    /// and again while delivering gave it more to do.
    /// </summary>
    private async Task CatchUpAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await SettleAsync(now, cancellationToken);
        while (await DeliverAsync(cancellationToken) > 0) await SettleAsync(now, cancellationToken);
    }

    /// <summary>
    /// Runs delivery rounds (the same rounds delivery's own loop runs, which the demo holds) until
    /// none finds a due message, and waits for their sends; returns how many messages were handled.
    /// </summary>
    private async Task<int> DeliverAsync(CancellationToken cancellationToken)
    {
        var delivery = Services.GetRequiredService<DeliveryWorker>();
        var handled = 0;
        for (int round; (round = await delivery.RunOnceAsync(cancellationToken)) > 0;) handled += round;
        await delivery.DrainAsync();
        return handled;
    }

    /// <summary>
    /// Waits until the engine has done everything due by <paramref name="now"/>, short of delivery:
    /// every event applied and written back, every due timer fired, every scheduled occurrence and
    /// catalog change handled — and nothing new appeared while looking, twice in a row.
    /// </summary>
    private async Task SettleAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var store = Store;
        var dispatcher = Services.GetRequiredService<LogDispatcher>();
        var writer = Services.GetRequiredService<StateWriter>();
        var journeys = Services.GetRequiredService<JourneyRegistry>();
        for (var idle = 0; idle < 2;)
        {
            var position = await store.LastPositionAsync(cancellationToken);
            await dispatcher.WaitForAsync(position, cancellationToken);
            if (writer.PendingCount > 0) await writer.FlushAsync(null, cancellationToken);
            var busy = (await store.DueCustomersAsync(now, 1, null, cancellationToken)).Count > 0
                || !await ScheduledDoneAsync(journeys.Current, now, cancellationToken)
                || !await CatalogHandledAsync(cancellationToken)
                || !await RedemptionsReadAsync(position, cancellationToken)
                || await store.LastPositionAsync(cancellationToken) != position;
            if (!busy)
            {
                idle++;
                continue;
            }

            idle = 0;
            // Wake whatever might be sleeping past its work (the timer pump, scheduled entries).
            _clock.FireTimers();
            await Task.Delay(5, cancellationToken);
        }
    }

    private async Task<bool> ScheduledDoneAsync(JourneySet journeys, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var journey in journeys.Scheduled.Where(j => j.Enabled))
        {
            if (((ScheduleTrigger)journey.Trigger).LatestDue(now) is not { } due) continue;
            var done = await Store.GetMetaAsync(ScheduledEntries.DoneKey(journey.Id), cancellationToken);
            if (done is null || long.Parse(done, CultureInfo.InvariantCulture) < due.ToUnixTimeMilliseconds()) return false;
        }

        return true;
    }

    // A coupon used in an order is marked redeemed before the customer's next checkout looks for one.
    private async Task<bool> RedemptionsReadAsync(long position, CancellationToken cancellationToken) =>
        await Store.GetMetaAsync(CouponRedemptions.CheckpointKey, cancellationToken) is { } read && long.Parse(read, CultureInfo.InvariantCulture) >= position;

    private async Task<bool> CatalogHandledAsync(CancellationToken cancellationToken) =>
        await Store.GetMetaAsync(CatalogTriggers.CheckpointKey, cancellationToken) is { } handled
        && (await Store.ReadCatalogChangesAsync(long.Parse(handled, CultureInfo.InvariantCulture), 1, cancellationToken)).Count == 0;

    /// <summary>
    /// The shop's history before the run, sent with its original times: registrations and past
    /// orders, so RFM, lifecycle stages and purchase cycles start from something real. Events this
    /// old start no journeys.
    /// </summary>
    private async Task BackfillAsync(Action<int> progress, CancellationToken cancellationToken)
    {
        // The history is in the log before the engine reads any of it: the dispatcher then reads it in
        // the same batches every run, and a customer's history is never cut where a batch happened to end.
        using (await Services.GetRequiredService<LogDispatcher>().PauseAsync(cancellationToken))
            await PostHistoryAsync(progress, cancellationToken);
        _clock.FireTimers();
        await CatchUpAsync(_settings.Start, cancellationToken);
        await RecountAsync(cancellationToken);
    }

    private async Task PostHistoryAsync(Action<int> progress, CancellationToken cancellationToken)
    {
        var done = 0;
        List<JsonObject> events = [];
        var start = _settings.Start;
        foreach (var s in _shoppers.Where(s => !s.NewInRun))
        {
            events.Add(s.Identify(s.SignedUpAt));
            var r = s.Random;
            var orders = 0;
            for (var at = Later(s.SignedUpAt, start.AddDays(-365)).AddDays(r.NextDouble() * s.CycleDays); at < start.AddDays(-1); at = at.AddDays(s.CycleDays * (0.7 + (r.NextDouble() * 0.6))))
            {
                if (s.Persona == Persona.Browser && r.NextDouble() < 0.85) continue;
                if (s.Persona == Persona.Lapsing && at < start.AddDays(-120)) continue;
                var p = _shop.ByCategory[s.Favourites[r.Next(s.Favourites.Length)]][r.Next(60)];
                orders++;
                events.Add(s.Track("Order Completed", at, new JsonObject
                {
                    ["order_id"] = $"{s.Id}-h{orders}",
                    ["total"] = p.Price,
                    ["revenue"] = p.Price,
                    ["currency"] = "CNY",
                    ["products"] = new JsonArray(new JsonObject { ["product_id"] = p.Id, ["name"] = p.Product.Name, ["category"] = p.Category, ["brand"] = p.Product.Brand, ["price"] = p.Price, ["quantity"] = 1 }),
                }));
                if (p.Consumable) s.Usual = p.Id;
            }

            done++;
            if (events.Count < 5_000) continue;
            await PostAsync(events, cancellationToken);
            progress(done);
        }

        await PostAsync(events, cancellationToken);
        progress(done);
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
