using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nudge.Engine.Catalog;
using Nudge.Engine.Commerce;
using Nudge.Engine.Events;
using Nudge.Storage;

namespace Nudge.Runtime.Delivery;

/// <summary>
/// The product-recommendation block of templates until personal recommendations exist: the most
/// popular products in stock in the customer's top category (orders count 5, cart adds 2, views 1,
/// over the most recent events of the log, read incrementally), refreshed every <see cref="DeliverySettings.PopularRefresh"/>.
/// </summary>
public sealed partial class PopularProducts(INudgeStore store, DeliverySettings settings, TimeProvider time, ILogger<PopularProducts> logger) : BackgroundService
{
    /// <summary>Products recommended per category.</summary>
    public const int PerCategory = 6;

    private const int RecentEvents = 200_000;
    private readonly SemaphoreSlim _refreshing = new(1, 1);

    // The window's scores, kept between recounts with what each part of the log added (oldest first) and how far the log was read.
    private readonly Dictionary<string, long> _score = new(StringComparer.Ordinal);
    private readonly Queue<(long Until, Dictionary<string, long> Scores)> _parts = new();
    private long _read;
    private volatile Dictionary<string, IReadOnlyList<Dictionary<string, object?>>> _byCategory = [];

    /// <summary>The <c>recommendations</c> variable for a customer whose top category is <paramref name="category"/> (all categories when null).</summary>
    public IReadOnlyList<Dictionary<string, object?>> For(string? category) =>
        _byCategory.TryGetValue(category ?? "", out var products) || _byCategory.TryGetValue("", out products) ? products : [];

    /// <summary>Recounts popularity and rereads the catalog; recounts asked for at once run one after the other, so the last one asked for stands.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            _byCategory = await CountAsync(cancellationToken);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private async Task<Dictionary<string, IReadOnlyList<Dictionary<string, object?>>>> CountAsync(CancellationToken cancellationToken)
    {
        await CountRecentAsync(cancellationToken);
        List<Product> catalog = [];
        for (string? page = null; ;)
        {
            var products = await store.ListProductsAsync(page, 1_000, cancellationToken);
            catalog.AddRange(products);
            if (products.Count < 1_000) break;
            page = products[^1].ProductId;
        }

        var ranked = catalog.Where(p => p.Stock is null or > 0)
            .OrderByDescending(p => _score.GetValueOrDefault(p.ProductId)).ThenBy(p => p.ProductId, StringComparer.Ordinal).ToList();
        Dictionary<string, IReadOnlyList<Dictionary<string, object?>>> byCategory = new(StringComparer.Ordinal) { [""] = [.. ranked.Take(PerCategory).Select(Value)] };
        foreach (var group in ranked.Where(p => p.Category is not null).GroupBy(p => p.Category!))
            byCategory[group.Key] = [.. group.Take(PerCategory).Select(Value)];
        return byCategory;
    }

    /// <summary>
    /// Brings the scores up to the end of the log: only events not read before are read, and the parts
    /// of the count that fell out of the window (the most recent <see cref="RecentEvents"/>) are taken off.
    /// </summary>
    private async Task CountRecentAsync(CancellationToken cancellationToken)
    {
        var from = Math.Max(_read, await store.LastPositionAsync(cancellationToken) - RecentEvents);
        if (from > _read)
        {
            // Too far behind to catch up part by part: count the window afresh.
            _score.Clear();
            _parts.Clear();
        }

        for (IReadOnlyList<StoredEvent> events; (events = await store.ReadLogAsync(from, 10_000, cancellationToken)).Count > 0; from = events[^1].Position)
        {
            Dictionary<string, long> part = new(StringComparer.Ordinal);
            foreach (var e in events)
            {
                var weight = e.Name switch { "Order Completed" => 5, "Product Added" => 2, "Product Viewed" => 1, _ => 0 };
                if (weight == 0) continue;
                using var doc = JsonDocument.Parse(e.Json);
                if (!doc.RootElement.TryGetProperty("properties", out var p) || p.ValueKind != JsonValueKind.Object) continue;
                foreach (var product in CommerceProperties.Read(e.Name!, p)?.Products ?? [])
                    if (product.ProductId is { } id) part[id] = part.GetValueOrDefault(id) + weight;
            }

            // Counted and read move together, so a failed read later on never counts a part twice.
            Add(part, 1);
            _parts.Enqueue((events[^1].Position, part));
            _read = events[^1].Position;
        }

        while (_parts.TryPeek(out var oldest) && oldest.Until <= _read - RecentEvents) Add(_parts.Dequeue().Scores, -1);
    }

    private void Add(Dictionary<string, long> part, int sign)
    {
        foreach (var (id, score) in part)
        {
            var total = _score.GetValueOrDefault(id) + (sign * score);
            if (total == 0) _score.Remove(id);
            else _score[id] = total;
        }
    }

    private static Dictionary<string, object?> Value(Product p) => new(StringComparer.Ordinal)
    {
        ["product_id"] = p.ProductId, ["name"] = p.Name, ["category"] = p.Category, ["brand"] = p.Brand, ["price"] = p.Price,
        ["currency"] = p.Currency, ["url"] = p.Url, ["image_url"] = p.ImageUrl,
    };

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, e);
            }

            await Task.Delay(settings.PopularRefresh, time, stoppingToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Counting popular products failed; recommendations keep the previous list")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
