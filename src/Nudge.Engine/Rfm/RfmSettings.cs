namespace Nudge.Engine.Rfm;

/// <summary>
/// The fixed RFM bands, defaulting to seed 002: recency ≤7 / ≤30 / ≤90 / &gt;90 days; frequency 1–3 /
/// 4–10 / &gt;10 orders; monetary &lt;300 / 300–1000 / &gt;1000 in the shop currency.
/// </summary>
/// <param name="RecencyDays">Upper bounds (inclusive, days) of the recency bands 7d, 30d, 90d; beyond the last is over90d.</param>
/// <param name="FrequencyOrders">Upper bounds (inclusive) of the low and medium frequency bands.</param>
/// <param name="MonetaryAmounts">Monetary bounds: below the first is low, up to and including the second is medium, above it high.</param>
public sealed record RfmSettings(IReadOnlyList<double> RecencyDays, IReadOnlyList<int> FrequencyOrders, IReadOnlyList<decimal> MonetaryAmounts)
{
    /// <summary>Seed 002's bands.</summary>
    public static readonly RfmSettings Default = new([7, 30, 90], [3, 10], [300, 1000]);

    /// <summary>The recency band for days since the last order.</summary>
    public string RecencyBand(double days)
    {
        for (var i = 0; i < RecencyDays.Count; i++)
            if (days <= RecencyDays[i]) return _recencyLabels[i];
        return _recencyLabels[^1];
    }

    // "7d", "30d", "90d", "over90d": built once, not on every evaluation.
    private readonly string[] _recencyLabels =
        [.. RecencyDays.Select(d => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{d}d")),
         string.Create(System.Globalization.CultureInfo.InvariantCulture, $"over{RecencyDays[^1]}d")];

    /// <summary>low (up to the first bound), medium (up to the second), high.</summary>
    public string FrequencyBand(int orders) => orders <= FrequencyOrders[0] ? "low" : orders <= FrequencyOrders[1] ? "medium" : "high";

    /// <summary>low (below the first amount), medium (up to and including the second), high (above it).</summary>
    public string MonetaryBand(decimal revenue) => revenue < MonetaryAmounts[0] ? "low" : revenue <= MonetaryAmounts[1] ? "medium" : "high";
}
