namespace Nudge.Engine.Events;

/// <summary>
/// Size limits of the Segment HTTP Tracking API. A body or message exactly at a limit is accepted;
/// one byte or one event over is rejected.
/// </summary>
/// <param name="MaxMessageBytes">Largest single message, in bytes of JSON.</param>
/// <param name="MaxBatchBytes">Largest batch request body, in bytes (after gzip decompression).</param>
/// <param name="MaxBatchEvents">Most messages in one batch.</param>
public sealed record IngestLimits(int MaxMessageBytes = 32 * 1024, int MaxBatchBytes = 500 * 1024, int MaxBatchEvents = 2500)
{
    /// <summary>Segment's published limits: 32 KB a message, 500 KB and 2,500 events a batch.</summary>
    public static IngestLimits Segment { get; } = new();
}
