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
    /// Reads the properties of an event. Type errors are added to <paramref name="errors"/> as
    /// (field path, detail) and the offending value is ignored; a null result means the properties
    /// are not an object.
    /// </summary>
    public static CommerceProperties? Read(string eventName, JsonElement properties, ICollection<(string Field, string Detail)>? errors = null)
    {
        if (properties.ValueKind != JsonValueKind.Object) return null;
        var reader = new FieldReader(errors);
        List<CommerceProduct> products = [];
        if (CommerceEvents.SingleProduct.Contains(eventName))
        {
            products.Add(reader.Product(properties, "properties"));
        }
        else if (properties.TryGetProperty("products", out var list))
        {
            if (list.ValueKind == JsonValueKind.Array)
            {
                var i = 0;
                foreach (var item in list.EnumerateArray())
                {
                    var path = $"properties.products[{i++}]";
                    if (item.ValueKind == JsonValueKind.Object) products.Add(reader.Product(item, path));
                    else reader.Fail(path, "must be an object describing a product");
                }
            }
            else if (list.ValueKind != JsonValueKind.Null)
            {
                reader.Fail("properties.products", "must be an array of products");
            }
        }

        return new CommerceProperties(
            reader.Id(properties, "order_id", "properties"),
            reader.Number(properties, "total", "properties"),
            reader.Number(properties, "revenue", "properties"),
            reader.Number(properties, "discount", "properties"),
            reader.Text(properties, "coupon", "properties"),
            reader.Text(properties, "currency", "properties"),
            reader.Text(properties, "query", "properties"),
            products);
    }

    private readonly struct FieldReader(ICollection<(string Field, string Detail)>? errors)
    {
        public void Fail(string path, string detail) => errors?.Add((path, detail));

        public CommerceProduct Product(JsonElement e, string path) => new(
            Id(e, "product_id", path),
            Id(e, "sku", path),
            Text(e, "name", path),
            Text(e, "category", path),
            Text(e, "brand", path),
            Number(e, "price", path),
            Number(e, "quantity", path) ?? 1m,
            Text(e, "coupon", path),
            Text(e, "url", path),
            Text(e, "image_url", path));

        /// <summary>Ids may be strings or numbers (many SDKs send numeric ids).</summary>
        public string? Id(JsonElement e, string name, string path)
        {
            if (!e.TryGetProperty(name, out var v)) return null;
            switch (v.ValueKind)
            {
                case JsonValueKind.String: return v.GetString();
                case JsonValueKind.Number: return v.GetRawText();
                case JsonValueKind.Null: return null;
                default: Fail($"{path}.{name}", "must be a string or a number"); return null;
            }
        }

        public string? Text(JsonElement e, string name, string path)
        {
            if (!e.TryGetProperty(name, out var v)) return null;
            switch (v.ValueKind)
            {
                case JsonValueKind.String: return v.GetString();
                case JsonValueKind.Null: return null;
                default: Fail($"{path}.{name}", "must be a string"); return null;
            }
        }

        /// <summary>Money and quantities: JSON numbers, or numeric strings such as "99.00".</summary>
        public decimal? Number(JsonElement e, string name, string path)
        {
            if (!e.TryGetProperty(name, out var v)) return null;
            switch (v.ValueKind)
            {
                case JsonValueKind.Number when v.TryGetDecimal(out var d): return d;
                case JsonValueKind.String when decimal.TryParse(v.GetString(), NumberStyles.Number, CultureInfo.InvariantCulture, out var s): return s;
                case JsonValueKind.Null: return null;
                default: Fail($"{path}.{name}", "must be a number"); return null;
            }
        }
    }
}
