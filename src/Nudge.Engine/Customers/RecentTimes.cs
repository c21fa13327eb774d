namespace Nudge.Engine.Customers;

/// <summary>
/// The most recent timestamps of one kind of event, newest first, at most <see cref="Capacity"/> of
/// them: enough to answer "at least N in the last D days" for every N a definition asks about. Which
/// timestamps are kept depends only on the events, never on the clock, so the incremental and the
/// recomputed state agree.
/// </summary>
public sealed class RecentTimes
{
    /// <summary>Creates an empty list that keeps <paramref name="capacity"/> timestamps.</summary>
    public RecentTimes(int capacity) => Capacity = Math.Max(1, capacity);

    /// <summary>How many timestamps are kept.</summary>
    public int Capacity { get; private set; }

    private readonly List<DateTimeOffset> _times = [];

    /// <summary>Kept timestamps, newest first.</summary>
    public IReadOnlyList<DateTimeOffset> Times => _times;

    /// <summary>Records an occurrence.</summary>
    public void Add(DateTimeOffset at)
    {
        var i = 0;
        while (i < _times.Count && _times[i] >= at) i++;
        if (i >= Capacity) return;
        _times.Insert(i, at);
        if (_times.Count > Capacity) _times.RemoveAt(_times.Count - 1);
    }

    /// <summary>Occurrences in the window (<paramref name="now"/> − <paramref name="window"/>, <paramref name="now"/>].</summary>
    public int CountWithin(DateTimeOffset now, TimeSpan window)
    {
        var from = now - window;
        var n = 0;
        foreach (var t in _times)
            if (t > from && t <= now) n++;
        return n;
    }

    /// <summary>
    /// The next time the count in the window changes by time alone: a kept timestamp leaving the
    /// window, or a future-dated one entering it. Null when nothing will change.
    /// </summary>
    public DateTimeOffset? NextChange(DateTimeOffset now, TimeSpan window)
    {
        DateTimeOffset? next = null;
        foreach (var t in _times)
        {
            var change = t > now ? t : t + window;
            if (change > now && (next is null || change < next)) next = change;
        }

        return next;
    }
}
