namespace Nudge.Engine.Customers;

/// <summary>
/// The most recent timestamps of one kind of event, newest first, at most <see cref="Capacity"/> of
/// them: enough to answer "at least N in the last D days" for every N a definition asks about. Which
/// timestamps are kept depends only on the events, never on the clock, so the incremental and the
/// recomputed state agree. Stored as Unix milliseconds in one small array: every active customer
/// holds several of these.
/// </summary>
public sealed class RecentTimes
{
    private long[] _ms;

    /// <summary>Creates an empty list that keeps <paramref name="capacity"/> timestamps, with room for <paramref name="expected"/> (a decoded state's count).</summary>
    public RecentTimes(int capacity, int expected = 2)
    {
        Capacity = Math.Max(1, capacity);
        _ms = new long[Math.Clamp(expected, 1, Capacity)];
    }

    /// <summary>How many timestamps are kept at most.</summary>
    public int Capacity { get; }

    /// <summary>How many timestamps are kept now.</summary>
    public int Count { get; private set; }

    /// <summary>The i-th newest kept timestamp, in Unix milliseconds.</summary>
    public long Milliseconds(int i) => _ms[i];

    /// <summary>Kept timestamps, newest first.</summary>
    public IReadOnlyList<DateTimeOffset> Times => [.. _ms.Take(Count).Select(DateTimeOffset.FromUnixTimeMilliseconds)];

    /// <summary>Records an occurrence.</summary>
    public void Add(DateTimeOffset at)
    {
        var ms = at.ToUnixTimeMilliseconds();
        var i = 0;
        while (i < Count && _ms[i] >= ms) i++;
        if (i >= Capacity) return;
        if (Count < Capacity)
        {
            if (Count == _ms.Length) Array.Resize(ref _ms, Math.Min(Capacity, _ms.Length * 2));
            Count++;
        }

        Array.Copy(_ms, i, _ms, i + 1, Count - 1 - i);
        _ms[i] = ms;
    }

    /// <summary>Occurrences in the window (<paramref name="nowMs"/> − <paramref name="windowMs"/>, <paramref name="nowMs"/>], in Unix milliseconds.</summary>
    public int CountWithin(long nowMs, long windowMs)
    {
        var from = nowMs - windowMs;
        var n = 0;
        for (var i = 0; i < Count; i++)
            if (_ms[i] > from && _ms[i] <= nowMs) n++;
        return n;
    }

    /// <summary>
    /// The next time the count in the window changes by time alone, in Unix milliseconds: a kept
    /// timestamp leaving the window, or a future-dated one entering it. long.MaxValue when nothing will change.
    /// </summary>
    public long NextChange(long nowMs, long windowMs)
    {
        var next = long.MaxValue;
        for (var i = 0; i < Count; i++)
        {
            var change = _ms[i] > nowMs ? _ms[i] : _ms[i] + windowMs;
            if (change > nowMs && change < next) next = change;
        }

        return next;
    }
}
