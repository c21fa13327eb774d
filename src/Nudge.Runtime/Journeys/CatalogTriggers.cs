using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nudge.Engine.Catalog;
using Nudge.Engine.Journeys;
using Nudge.Runtime.Customers;
using Nudge.Runtime.Dispatch;
using Nudge.Storage;
using Orleans;

namespace Nudge.Runtime.Journeys;

/// <summary>
/// Turns the catalog change feed into journey triggers: a price drop or a restock goes to every
/// customer who viewed the product recently or ever put it in their cart or wishlist, and each
/// customer's grain decides, from its live state, whether the change concerns them (still in the
/// cart, still favourited). The feed position is kept, so a restart neither misses nor repeats a change.
/// </summary>
public sealed partial class CatalogTriggers(
    INudgeStore store, IGrainFactory grains, StateWriter writer, JourneyRegistry journeys, CatalogSignal signal, TimeProvider time, ILogger<CatalogTriggers> logger)
    : BackgroundService
{
    /// <summary>The runtime setting holding the last catalog change handled.</summary>
    public const string CheckpointKey = "catalog_trigger_position";

    private const int Page = 200;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // The first start begins at the end of the feed, before anything else can change the catalog:
        // changes from before journeys ran trigger nothing, changes after do.
        if (await store.GetMetaAsync(CheckpointKey, cancellationToken) is null) await EndOfFeedAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        long? after = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                after ??= await store.GetMetaAsync(CheckpointKey, stoppingToken) is { } saved ? long.Parse(saved, CultureInfo.InvariantCulture) : await EndOfFeedAsync(stoppingToken);
                var page = await store.ReadCatalogChangesAsync(after.Value, Page, stoppingToken);
                foreach (var change in page)
                {
                    if (journeys.Current.CatalogTriggered.Count > 0 && await OfferAsync(store, change, stoppingToken) is { } offer) await NotifyAsync(offer, stoppingToken);
                    after = change.Position;
                }

                if (page.Count > 0)
                {
                    // The instances entered are durable before the changes are recorded as handled.
                    await writer.FlushAsync(null, stoppingToken);
                    await store.SetMetaAsync(CheckpointKey, after.Value.ToString(CultureInfo.InvariantCulture), stoppingToken);
                }
                if (page.Count == Page) continue;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // A failed round is retried from the saved position.
            catch (Exception e)
#pragma warning restore CA1031
            {
                after = null;
                LogRoundFailed(logger, e);
            }

            // Real time: polling the feed is not part of the engine's (possibly virtual) clock. Changes
            // written through this engine wake it at once; the poll catches those written elsewhere (an import).
            await signal.WaitAsync(Poll, stoppingToken);
        }
    }

    private async Task<long> EndOfFeedAsync(CancellationToken cancellationToken)
    {
        long end = 0;
        for (IReadOnlyList<CatalogChange> page; (page = await store.ReadCatalogChangesAsync(end, 10_000, cancellationToken)).Count > 0;) end = page[^1].Position;
        await store.SetMetaAsync(CheckpointKey, end.ToString(CultureInfo.InvariantCulture), cancellationToken);
        return end;
    }

    /// <summary>The change as an offer, when it is a price drop or a restock of a product still listed.</summary>
    internal static async Task<CatalogOffer?> OfferAsync(INudgeStore store, CatalogChange change, CancellationToken cancellationToken)
    {
        string? kind = change.Kind switch
        {
            CatalogChangeKind.Price when Number(change.NewValue) < Number(change.OldValue) => "price_drop",
            CatalogChangeKind.Stock when (Number(change.OldValue) ?? 0) <= 0 && Number(change.NewValue) > 0 => "back_in_stock",
            _ => null,
        };
        if (kind is null || await store.GetProductAsync(change.ProductId, cancellationToken) is not { } product) return null;
        // Price and stock as the change left them (the product may have changed again since).
        var (price, stock) = kind == "price_drop" ? (Number(change.NewValue), (long?)product.Stock) : (product.Price, (long?)Number(change.NewValue));
        return new CatalogOffer(kind, product.ProductId, product.Name, price, kind == "price_drop" ? Number(change.OldValue) : null, stock,
            product.Url, product.ImageUrl, change.At);
    }

    private async Task NotifyAsync(CatalogOffer offer, CancellationToken cancellationToken)
    {
        var window = journeys.Current.CatalogTriggered.Max(j => ((CatalogTrigger)j.Trigger).ViewedWithin);
        // Interest the runtime has written covers the log up to its checkpoint; the rest is read from the log.
        var written = long.Parse(await store.GetMetaAsync(LogDispatcher.CheckpointKey, cancellationToken) ?? "0", CultureInfo.InvariantCulture);
        var interested = await store.CustomersInterestedInAsync(offer.ProductId, time.GetUtcNow() - window, written, cancellationToken);
        var json = JsonSerializer.Serialize(offer, RuntimeJson.Default.CatalogOffer);
        foreach (var batch in interested.Chunk(500))
            await Task.WhenAll(batch.Select(c => grains.GetGrain<ICustomerGrain>(c.CustomerId).OfferAsync(json, c.LastViewed)));
        LogNotified(logger, offer.Change, offer.ProductId, interested.Count);
    }

    private static decimal? Number(string? text) =>
        decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var d) ? d : null;

    [LoggerMessage(Level = LogLevel.Information, Message = "Catalog {Change} of {Product}: {Customers} interested customers checked")]
    private static partial void LogNotified(ILogger logger, string change, string product, int customers);

    [LoggerMessage(Level = LogLevel.Error, Message = "Turning catalog changes into journey triggers failed; retrying")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
