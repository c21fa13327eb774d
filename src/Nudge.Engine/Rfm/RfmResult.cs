namespace Nudge.Engine.Rfm;

/// <summary>A customer's RFM position: fixed bands, quintile scores and the named segment.</summary>
/// <param name="RecencyBand">Days since the last order in bands: 7d, 30d, 90d, over90d.</param>
/// <param name="FrequencyBand">Orders: low, medium, high.</param>
/// <param name="MonetaryBand">Net revenue: low, medium, high.</param>
/// <param name="R">Recency quintile score, 1 (long ago) to 5 (recent).</param>
/// <param name="F">Frequency quintile score, 1 to 5.</param>
/// <param name="M">Monetary quintile score, 1 to 5.</param>
/// <param name="Segment">The named RFM segment, e.g. Champions.</param>
public sealed record RfmResult(string? RecencyBand, string? FrequencyBand, string? MonetaryBand, int R, int F, int M, string? Segment);
