namespace Nudge.Engine.Segments;

/// <summary>
/// One evaluation of conditions at a point in time. Conditions that depend on time report when their
/// answer could next change, so the caller can set one durable timer instead of polling.
/// </summary>
public sealed class Evaluation(DateTimeOffset now)
{
    /// <summary>The time the conditions are evaluated at.</summary>
    public DateTimeOffset Now { get; } = now;

    /// <summary>The earliest future time at which an evaluated condition may change its answer.</summary>
    public DateTimeOffset? NextChange { get; private set; }

    /// <summary>Notes a time at which an answer may change; past times are ignored.</summary>
    public void ChangesAt(DateTimeOffset at)
    {
        if (at > Now && (NextChange is null || at < NextChange)) NextChange = at;
    }

    /// <summary>Notes a time when known.</summary>
    public void ChangesAt(DateTimeOffset? at)
    {
        if (at is { } t) ChangesAt(t);
    }
}
