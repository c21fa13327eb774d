namespace Nudge.Engine.Customers;

/// <summary>
/// What a customer did with one product, as catalog triggers ask it: when they last viewed it, and
/// whether they ever put it in their cart or wishlist. The runtime keeps these per (product, customer)
/// so a price drop finds the customers it may concern without searching the event log.
/// </summary>
/// <param name="ProductId">The product.</param>
/// <param name="Viewed">The latest view, if any.</param>
/// <param name="Carted">Added to the cart.</param>
/// <param name="Wished">Added to the wishlist.</param>
public readonly record struct ProductTouch(string ProductId, DateTimeOffset? Viewed, bool Carted, bool Wished)
{
    /// <summary>Both touches in one: the later view, and either's cart and wishlist adds.</summary>
    public ProductTouch With(ProductTouch other) => new(ProductId,
        Viewed is null || (other.Viewed is { } v && v > Viewed) ? other.Viewed : Viewed, Carted || other.Carted, Wished || other.Wished);
}
