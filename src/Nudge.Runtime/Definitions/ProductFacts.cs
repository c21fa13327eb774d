using System.Collections.Concurrent;
using Nudge.Storage;

namespace Nudge.Runtime.Definitions;

/// <summary>
/// When each product was first listed, for the new-product purchase ratio. Loaded from the catalog at
/// start and refreshed on a schedule; a product not yet known counts as not new.
/// </summary>
public sealed class ProductFacts(INudgeStore store)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _listedAt = new(StringComparer.Ordinal);

    /// <summary>When the product was first listed, or null.</summary>
    public DateTimeOffset? ListedAt(string productId) => _listedAt.TryGetValue(productId, out var at) ? at : null;

    /// <summary>Reads listing times from the catalog.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        foreach (var (id, at) in await store.ProductListingTimesAsync(cancellationToken)) _listedAt[id] = at;
    }
}
