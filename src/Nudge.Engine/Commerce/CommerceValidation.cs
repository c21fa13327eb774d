using System.Globalization;
using System.Text.Json;

namespace Nudge.Engine.Commerce;

/// <summary>
/// Checks the property types of an E-commerce Spec v2 event without building the typed view: ingestion
/// validates every such event, and allocating a <see cref="CommerceProperties"/> per event only to
/// throw it away would cost the hot path for nothing. The one definition of a valid commerce property:
/// <see cref="CommerceProperties.Read"/> reports its errors through it.
/// </summary>
public static class CommerceValidation
{
    /// <summary>Reports each mistyped property as (field path, detail) through <paramref name="fail"/>.</summary>
    public static void Validate(string eventName, JsonElement properties, Action<string, string> fail)
    {
        if (properties.ValueKind != JsonValueKind.Object) return;
        if (CommerceEvents.SingleProduct.Contains(eventName))
        {
            Product(properties, null, fail);
        }
        else if (properties.TryGetProperty("products", out var list))
        {
            if (list.ValueKind == JsonValueKind.Array)
            {
                var i = 0;
                foreach (var item in list.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Object) Product(item, i, fail);
                    else fail($"properties.products[{i}]", "must be an object describing a product");
                    i++;
                }
            }
            else if (list.ValueKind != JsonValueKind.Null)
            {
                fail("properties.products", "must be an array of products");
            }
        }

        Id(properties, "order_id", null, fail);
        Number(properties, "total", null, fail);
        Number(properties, "revenue", null, fail);
        Number(properties, "discount", null, fail);
        Text(properties, "coupon", null, fail);
        Text(properties, "currency", null, fail);
        Text(properties, "query", null, fail);
    }

    private static void Product(JsonElement e, int? index, Action<string, string> fail)
    {
        Id(e, "product_id", index, fail);
        Id(e, "sku", index, fail);
        Text(e, "name", index, fail);
        Text(e, "category", index, fail);
        Text(e, "brand", index, fail);
        Number(e, "price", index, fail);
        Number(e, "quantity", index, fail);
        Text(e, "coupon", index, fail);
        Text(e, "url", index, fail);
        Text(e, "image_url", index, fail);
    }

    // Paths are built only for a failure: the valid case allocates nothing.
    private static string Path(int? product, string name) =>
        product is int i ? $"properties.products[{i}].{name}" : $"properties.{name}";

    private static void Id(JsonElement e, string name, int? product, Action<string, string> fail)
    {
        if (e.TryGetProperty(name, out var v) && v.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Null))
            fail(Path(product, name), "must be a string or a number");
    }

    private static void Text(JsonElement e, string name, int? product, Action<string, string> fail)
    {
        if (e.TryGetProperty(name, out var v) && v.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            fail(Path(product, name), "must be a string");
    }

    private static void Number(JsonElement e, string name, int? product, Action<string, string> fail)
    {
        if (!e.TryGetProperty(name, out var v)) return;
        var ok = v.ValueKind switch
        {
            JsonValueKind.Number => v.TryGetDecimal(out _),
            JsonValueKind.String => decimal.TryParse(v.GetString(), NumberStyles.Number, CultureInfo.InvariantCulture, out _),
            JsonValueKind.Null => true,
            _ => false,
        };
        if (!ok) fail(Path(product, name), "must be a number");
    }
}
