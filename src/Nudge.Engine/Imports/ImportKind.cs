namespace Nudge.Engine.Imports;

/// <summary>What a CSV file holds.</summary>
public enum ImportKind
{
    /// <summary>One customer per row: user_id and traits.</summary>
    Customers,
    /// <summary>One order line per row: order_id, user_id, timestamp, sku, quantity, price, currency.</summary>
    Orders,
    /// <summary>One product per row: product_id, name, category, brand, price, currency, stock, url, image_url.</summary>
    Products,
    /// <summary>One event per row: user_id or anonymous_id, event, timestamp, and properties.</summary>
    Events,
}

/// <summary>A row that could not be imported, and why.</summary>
/// <param name="Line">Line in the file (the header is line 1).</param>
/// <param name="Column">The CSV column at fault, or empty when the row as a whole is.</param>
/// <param name="Reason">What is wrong.</param>
public sealed record RejectedRow(long Line, string Column, string Reason);
