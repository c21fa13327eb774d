namespace Nudge.Engine.Rfm;

/// <summary>
/// The standard named RFM segments on the grid of recency score (R) against the rounded mean of the
/// frequency and monetary scores (FM). Every cell has a name, so every customer with orders is in
/// exactly one segment.
/// </summary>
public static class RfmSegments
{
    // Rows: R = 5 down to 1. Columns: FM = 1 to 5.
    private static readonly string[][] Grid =
    [
        ["New Customers", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"],
        ["Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Champions"],
        ["About to Sleep", "Need Attention", "Need Attention", "Loyal", "Loyal"],
        ["Hibernating", "About to Sleep", "At Risk", "At Risk", "Can't Lose Them"],
        ["Lost", "Lost", "Hibernating", "At Risk", "Can't Lose Them"],
    ];

    /// <summary>All segment names.</summary>
    public static readonly IReadOnlySet<string> Names = Grid.SelectMany(row => row).ToHashSet(StringComparer.Ordinal);

    /// <summary>The segment of a customer with scores r, f, m (each 1–5).</summary>
    public static string Of(int r, int f, int m)
    {
        var fm = (int)Math.Round((f + m) / 2.0, MidpointRounding.AwayFromZero);
        return Grid[5 - r][fm - 1];
    }
}
