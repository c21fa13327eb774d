namespace Nudge.Engine.Customers;

/// <summary>
/// Something the definitions made of a customer's state change: a tag, the lifecycle stage, a segment
/// membership or the RFM segment. Kept as the customer's history; journeys trigger on them.
/// </summary>
/// <param name="Kind">One of the <see cref="ChangeKinds"/>.</param>
/// <param name="Name">The tag, stage, segment id or RFM segment.</param>
/// <param name="Value">The new value (tag value, stage); null when removed or left.</param>
/// <param name="Previous">The previous value, when there was one.</param>
/// <param name="At">When it changed: the evaluation time, or exactly when a time condition came due.</param>
public sealed record CustomerChange(string Kind, string Name, string? Value, string? Previous, DateTimeOffset At);

/// <summary>Kinds of <see cref="CustomerChange"/>.</summary>
public static class ChangeKinds
{
#pragma warning disable CS1591 // The names are the documentation.
    public const string TagAdded = "tag_added";
    public const string TagChanged = "tag_changed";
    public const string TagRemoved = "tag_removed";
    public const string StageChanged = "stage_changed";
    public const string SegmentEntered = "segment_entered";
    public const string SegmentLeft = "segment_left";
    public const string RfmChanged = "rfm_segment_changed";
#pragma warning restore CS1591
}
