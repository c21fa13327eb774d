namespace Nudge.Engine.Catalog;

/// <summary>A product of the shop's catalog.</summary>
/// <param name="ProductId">The shop's product id.</param>
/// <param name="Sku">Stock keeping unit, when it differs from the product id.</param>
/// <param name="Name">Display name.</param>
/// <param name="Category">Category, e.g. 母婴 or Beauty.</param>
/// <param name="Brand">Brand name.</param>
/// <param name="Price">Current price in <paramref name="Currency"/>.</param>
/// <param name="Currency">ISO 4217 code, e.g. CNY.</param>
/// <param name="Stock">Units in stock; null when the shop does not track stock.</param>
/// <param name="Url">Product page.</param>
/// <param name="ImageUrl">Product image.</param>
public sealed record Product(
    string ProductId,
    string? Sku = null,
    string? Name = null,
    string? Category = null,
    string? Brand = null,
    decimal? Price = null,
    string? Currency = null,
    int? Stock = null,
    string? Url = null,
    string? ImageUrl = null);

/// <summary>A recorded change of a product's price or stock, which journeys react to (price drop, back in stock).</summary>
/// <param name="Position">Order of the change in the catalog change log.</param>
/// <param name="ProductId">The product that changed.</param>
/// <param name="Kind"><see cref="CatalogChangeKind"/>.</param>
/// <param name="OldValue">Value before, invariant text; null when the product is new.</param>
/// <param name="NewValue">Value after, invariant text; null when deleted.</param>
/// <param name="At">When the change was recorded.</param>
public sealed record CatalogChange(long Position, string ProductId, CatalogChangeKind Kind, string? OldValue, string? NewValue, DateTimeOffset At);

/// <summary>What changed about a product.</summary>
public enum CatalogChangeKind
{
    /// <summary>The product was added to the catalog.</summary>
    Created,
    /// <summary>The price changed.</summary>
    Price,
    /// <summary>The stock level changed.</summary>
    Stock,
    /// <summary>The product was removed.</summary>
    Deleted,
}
