using System.Globalization;
using System.Text.Json;

namespace Nudge.Engine.Commerce;

/// <summary>One product line as the E-commerce Spec v2 describes it.</summary>
/// <param name="ProductId">product_id.</param>
/// <param name="Sku">sku.</param>
/// <param name="Name">name.</param>
/// <param name="Category">category.</param>
/// <param name="Brand">brand.</param>
/// <param name="Price">price of one unit.</param>
/// <param name="Quantity">quantity; 1 when not sent.</param>
/// <param name="Coupon">coupon applied to this line.</param>
/// <param name="Url">url of the product page.</param>
/// <param name="ImageUrl">image_url.</param>
public sealed record CommerceProduct(
    string? ProductId,
    string? Sku,
    string? Name,
    string? Category,
    string? Brand,
    decimal? Price,
    decimal Quantity,
    string? Coupon,
    string? Url,
    string? ImageUrl);

/// <summary>
/// Typed view of the properties of an E-commerce Spec v2 event: order totals, coupon, currency and
/// products. Single-product events (Product Viewed, Product Added...) expose their product as the only
/// item of <see cref="Products"/>.
/// </summary>
/// <param name="OrderId">order_id.</param>
/// <param name="Total">total: what the customer paid, after discounts.</param>
/// <param name="Revenue">revenue, as some senders send instead of total.</param>
/// <param name="Discount">discount.</param>
/// <param name="Coupon">coupon.</param>
/// <param name="Currency">currency, ISO 4217.</param>
/// <param name="Query">query of Products Searched.</param>
/// <param name="Products">products[], or the single product of a product event.</param>
public sealed record CommerceProperties(
    string? OrderId,
    decimal? Total,
    decimal? Revenue,
    decimal? Discount,
    string? Coupon,
    string? Currency,
    string? Query,
    IReadOnlyList<CommerceProduct> Products)
{
    /// <summary>What the order was worth: <c>total</c> when sent, else <c>revenue</c>, else the sum of its lines.</summary>
    public decimal? Amount => Total ?? Revenue ?? (Products.Count > 0 && Products.All(p => p.Price is not null)
        ? Products.Sum(p => p.Price!.Value * p.Quantity)
        : null);

    /// <summary>
    /// Reads the properties of an event. A mistyped value is ignored (read as absent); what is wrong
    /// with it is added to <paramref name="errors"/> as (field path, detail), by the same rules that
    /// ingestion enforces (<see cref="CommerceValidation"/>). A null result means the properties are
    /// not an object.
    /// </summary>
    public static CommerceProperties? Read(string eventName, JsonElement properties, ICollection<(string Field, string Detail)>? errors = null)
    {
        if (properties.ValueKind != JsonValueKind.Object) return null;
        if (errors is not null) CommerceValidation.Validate(eventName, properties, (field, detail) => errors.Add((field, detail)));
        List<CommerceProduct> products = [];
        if (CommerceEvents.SingleProduct.Contains(eventName))
        {
            products.Add(Product(properties));
        }
        else if (properties.TryGetProperty("products", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in list.EnumerateArray())
                if (item.ValueKind == JsonValueKind.Object) products.Add(Product(item));
        }

        return new CommerceProperties(
            Id(properties, "order_id"), Number(properties, "total"), Number(properties, "revenue"), Number(properties, "discount"),
            Text(properties, "coupon"), Text(properties, "currency"), Text(properties, "query"), products);
    }

    private static CommerceProduct Product(JsonElement e) => new(
        Id(e, "product_id"), Id(e, "sku"), Text(e, "name"), Text(e, "category"), Text(e, "brand"),
        Number(e, "price"), Number(e, "quantity") ?? 1m, Text(e, "coupon"), Text(e, "url"), Text(e, "image_url"));

    /// <summary>Ids may be strings or numbers (many SDKs send numeric ids).</summary>
    private static string? Id(JsonElement e, string name) =>
        !e.TryGetProperty(name, out var v) ? null
        : v.ValueKind switch { JsonValueKind.String => v.GetString(), JsonValueKind.Number => v.GetRawText(), _ => null };

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>Money and quantities: JSON numbers, or numeric strings such as "99.00".</summary>
    private static decimal? Number(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.Number when v.TryGetDecimal(out var d) => d,
            JsonValueKind.String when decimal.TryParse(v.GetString(), NumberStyles.Number, CultureInfo.InvariantCulture, out var s) => s,
            _ => null,
        };
    }
}
