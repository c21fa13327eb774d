namespace Nudge.Engine.Segments;

/// <summary>
/// One evaluation of conditions at a point in time. Conditions that depend on time report when their
/// answer could next change, so the caller can set one durable timer instead of polling.
/// </summary>
public sealed class Evaluation(DateTimeOffset now)
{
    // Kept as UTC ticks: conditions report a time per order and per event counter, and comparing
    // longs is much cheaper than comparing DateTimeOffsets.
    private readonly long _nowTicks = now.UtcTicks;
    private long _nextTicks = long.MaxValue;

    /// <summary>The time the conditions are evaluated at.</summary>
    public DateTimeOffset Now { get; } = now;

    /// <summary><see cref="Now"/> in Unix milliseconds, the precision of stored times.</summary>
    public long NowUnixMilliseconds { get; } = now.ToUnixTimeMilliseconds();

    /// <summary>The earliest future time at which an evaluated condition may change its answer.</summary>
    public DateTimeOffset? NextChange => _nextTicks == long.MaxValue ? null : new DateTimeOffset(_nextTicks, TimeSpan.Zero);

    /// <summary>Notes a time at which an answer may change; past times are ignored.</summary>
    public void ChangesAt(DateTimeOffset at) => ChangesAtTicks(at.UtcTicks);

    /// <summary>Notes a time when known.</summary>
    public void ChangesAt(DateTimeOffset? at)
    {
        if (at is { } t) ChangesAtTicks(t.UtcTicks);
    }

    /// <summary>Notes a time given in Unix milliseconds; long.MaxValue stands for never.</summary>
    public void ChangesAtUnixMilliseconds(long ms)
    {
        if (ms != long.MaxValue) ChangesAtTicks(DateTimeOffset.UnixEpoch.UtcTicks + ms * TimeSpan.TicksPerMillisecond);
    }

    private void ChangesAtTicks(long ticks)
    {
        if (ticks > _nowTicks && ticks < _nextTicks) _nextTicks = ticks;
    }
}
