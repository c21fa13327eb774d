namespace Nudge.Engine.Commerce;

/// <summary>Event names of the Segment E-commerce Spec v2 that Nudge reads with typed access.</summary>
public static class CommerceEvents
{
    // The constants are the spec's event names; the name is the documentation.
#pragma warning disable CS1591
    public const string ProductsSearched = "Products Searched";
    public const string ProductListViewed = "Product List Viewed";
    public const string ProductClicked = "Product Clicked";
    public const string ProductViewed = "Product Viewed";
    public const string ProductAdded = "Product Added";
    public const string ProductRemoved = "Product Removed";
    public const string CartViewed = "Cart Viewed";
    public const string CheckoutStarted = "Checkout Started";
    public const string PaymentInfoEntered = "Payment Info Entered";
    public const string OrderUpdated = "Order Updated";
    public const string OrderCompleted = "Order Completed";
    public const string OrderRefunded = "Order Refunded";
    public const string OrderCancelled = "Order Cancelled";
    public const string CouponApplied = "Coupon Applied";
    public const string CouponRemoved = "Coupon Removed";
    public const string ProductAddedToWishlist = "Product Added to Wishlist";
    public const string ProductRemovedFromWishlist = "Product Removed from Wishlist";
    public const string ProductShared = "Product Shared";
    public const string ProductReviewed = "Product Reviewed";

    // Catalog changes Nudge records itself when a product's price or stock changes.
    public const string ProductPriceChanged = "Product Price Changed";
    public const string ProductStockChanged = "Product Stock Changed";
#pragma warning restore CS1591

    /// <summary>Events whose properties describe one product at the top level.</summary>
    public static readonly IReadOnlySet<string> SingleProduct = new HashSet<string>(StringComparer.Ordinal)
    {
        ProductClicked, ProductViewed, ProductAdded, ProductRemoved, ProductAddedToWishlist,
        ProductRemovedFromWishlist, ProductShared, ProductReviewed,
    };

    /// <summary>Events whose properties carry an order or cart with a <c>products</c> array.</summary>
    public static readonly IReadOnlySet<string> WithProductList = new HashSet<string>(StringComparer.Ordinal)
    {
        ProductListViewed, CartViewed, CheckoutStarted, OrderUpdated, OrderCompleted, OrderRefunded, OrderCancelled,
    };

    /// <summary>Whether the event name belongs to the E-commerce Spec v2 vocabulary Nudge types.</summary>
    public static bool IsCommerce(string name) =>
        SingleProduct.Contains(name) || WithProductList.Contains(name) ||
        name is ProductsSearched or PaymentInfoEntered or CouponApplied or CouponRemoved;
}
