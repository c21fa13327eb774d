using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nudge.Engine.Catalog;
using Nudge.Engine.Commerce;
using Nudge.Storage;

namespace Nudge.Runtime.Delivery;

/// <summary>
/// The product-recommendation block of templates until personal recommendations exist: the most
/// popular products in stock in the customer's top category (orders count 5, cart adds 2, views 1,
/// over the most recent events of the log), refreshed every <see cref="DeliverySettings.PopularRefresh"/>.
/// </summary>
public sealed partial class PopularProducts(INudgeStore store, DeliverySettings settings, TimeProvider time, ILogger<PopularProducts> logger) : BackgroundService
{
    /// <summary>Products recommended per category.</summary>
    public const int PerCategory = 6;

    private const int RecentEvents = 200_000;
    private readonly SemaphoreSlim _refreshing = new(1, 1);
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
        Dictionary<string, double> score = new(StringComparer.Ordinal);
        var after = Math.Max(0, await store.CountEventsAsync(cancellationToken) - RecentEvents);
        while (true)
        {
            var events = await store.ReadLogAsync(after, 10_000, cancellationToken);
            if (events.Count == 0) break;
            after = events[^1].Position;
            foreach (var e in events)
            {
                var weight = e.Name switch { "Order Completed" => 5, "Product Added" => 2, "Product Viewed" => 1, _ => 0 };
                if (weight == 0) continue;
                using var doc = JsonDocument.Parse(e.Json);
                if (!doc.RootElement.TryGetProperty("properties", out var p) || p.ValueKind != JsonValueKind.Object) continue;
                foreach (var product in CommerceProperties.Read(e.Name!, p)?.Products ?? [])
                    if (product.ProductId is { } id) score[id] = score.GetValueOrDefault(id) + weight;
            }
        }

        List<Product> catalog = [];
        for (string? page = null; ;)
        {
            var products = await store.ListProductsAsync(page, 1_000, cancellationToken);
            catalog.AddRange(products);
            if (products.Count < 1_000) break;
            page = products[^1].ProductId;
        }

        var ranked = catalog.Where(p => p.Stock is null or > 0)
            .OrderByDescending(p => score.GetValueOrDefault(p.ProductId)).ThenBy(p => p.ProductId, StringComparer.Ordinal).ToList();
        Dictionary<string, IReadOnlyList<Dictionary<string, object?>>> byCategory = new(StringComparer.Ordinal) { [""] = [.. ranked.Take(PerCategory).Select(Value)] };
        foreach (var group in ranked.Where(p => p.Category is not null).GroupBy(p => p.Category!))
            byCategory[group.Key] = [.. group.Take(PerCategory).Select(Value)];
        return byCategory;
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
