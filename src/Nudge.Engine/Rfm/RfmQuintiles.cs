namespace Nudge.Engine.Rfm;

/// <summary>
/// Cut points that split customers with orders into five equal groups per dimension. Recomputed on a
/// schedule from all customers; each customer is rescored against the current cut points whenever
/// their stats change (and, for recency, as days pass).
/// </summary>
/// <param name="RecencyDays">Four ascending cut points of days since the last order.</param>
/// <param name="Frequency">Four ascending cut points of order counts.</param>
/// <param name="Monetary">Four ascending cut points of net revenue.</param>
/// <param name="ComputedAt">When they were computed.</param>
/// <param name="Customers">How many customers they were computed from.</param>
public sealed record RfmQuintiles(IReadOnlyList<double> RecencyDays, IReadOnlyList<double> Frequency, IReadOnlyList<double> Monetary, DateTimeOffset ComputedAt, long Customers)
{
    /// <summary>Cut points used until the first computation: the seed bands spread over five scores.</summary>
    public static readonly RfmQuintiles Initial = new([7, 30, 90, 180], [1, 2, 4, 10], [100, 300, 1000, 3000], DateTimeOffset.UnixEpoch, 0);

    /// <summary>Recency score: 5 for the most recent fifth, 1 for the longest ago.</summary>
    public int RecencyScore(double days) => 5 - Rank(RecencyDays, days);

    /// <summary>Frequency score: 1 for the fewest orders, 5 for the most.</summary>
    public int FrequencyScore(double orders) => 1 + Rank(Frequency, orders);

    /// <summary>Monetary score: 1 for the least revenue, 5 for the most.</summary>
    public int MonetaryScore(double revenue) => 1 + Rank(Monetary, revenue);

    // How many cut points the value is above: 0..4.
    private static int Rank(IReadOnlyList<double> cuts, double value)
    {
        var rank = 0;
        while (rank < cuts.Count && value > cuts[rank]) rank++;
        return rank;
    }

    /// <summary>Computes cut points at the 20th, 40th, 60th and 80th percentiles of each dimension.</summary>
    /// <param name="customers">(days since last order, orders, revenue) of every customer with orders.</param>
    /// <param name="at">The time of computation.</param>
    public static RfmQuintiles Compute(IReadOnlyCollection<(double RecencyDays, double Orders, double Revenue)> customers, DateTimeOffset at)
    {
        if (customers.Count == 0) return Initial with { ComputedAt = at };
        return new RfmQuintiles(
            Cuts(customers.Select(c => c.RecencyDays)), Cuts(customers.Select(c => c.Orders)), Cuts(customers.Select(c => c.Revenue)),
            at, customers.Count);
    }

    private static readonly double[] Quantiles = [0.2, 0.4, 0.6, 0.8];

    private static double[] Cuts(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return [.. Quantiles.Select(q => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)])];
    }
}
