using System.Globalization;
using System.Text.Json;
using Nudge.Engine.Customers;

namespace Nudge.Engine.Segments;

/// <summary>
/// Counts one kind of event for conditions such as "Product Viewed in category 母婴 at least 3 times
/// in the last 7 days": the event name plus property filters. Filters match a top-level property,
/// or, for events with a <c>products</c> list, a property of any of its products.
/// </summary>
/// <param name="EventName">The track event name.</param>
/// <param name="Where">Property name to required value (compared as text; numbers in invariant form).</param>
/// <param name="Capacity">Timestamps to keep: one more than the largest count a condition compares with.</param>
public sealed record EventTracker(string EventName, IReadOnlyList<KeyValuePair<string, string>> Where, int Capacity)
{
    /// <summary>Identifies the tracker: event name and filters, independent of the capacity.</summary>
    public string Key { get; } = SharedNames.Share(EventName + string.Concat(Where.OrderBy(w => w.Key, StringComparer.Ordinal).Select(w => $"|{w.Key}={w.Value}")));

    /// <summary>Whether an event's properties pass the filters.</summary>
    public bool Matches(JsonElement properties)
    {
        if (Where.Count == 0) return true;
        if (properties.ValueKind != JsonValueKind.Object) return false;
        if (All(properties, orEvent: null)) return true;
        if (!properties.TryGetProperty("products", out var products) || products.ValueKind != JsonValueKind.Array) return false;
        foreach (var product in products.EnumerateArray())
        {
            if (product.ValueKind == JsonValueKind.Object && All(product, properties)) return true;
        }

        return false;
    }

    // Loops rather than lambdas, and strings compared in place: this runs for every tracked event.
    private bool All(JsonElement obj, JsonElement? orEvent)
    {
        for (var i = 0; i < Where.Count; i++)
        {
            var (name, value) = Where[i];
            if (!Has(obj, name, value) && (orEvent is not { } e || !Has(e, name, value))) return false;
        }

        return true;
    }

    private static bool Has(JsonElement obj, string name, string value) =>
        obj.TryGetProperty(name, out var v) && (v.ValueKind == JsonValueKind.String ? v.ValueEquals(value) : string.Equals(Text(v), value, StringComparison.Ordinal));

    /// <summary>A JSON scalar as comparable text.</summary>
    internal static string? Text(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Number => v.TryGetDecimal(out var d) ? d.ToString(CultureInfo.InvariantCulture) : v.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };
}
