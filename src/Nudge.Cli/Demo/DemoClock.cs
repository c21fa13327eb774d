using Microsoft.Extensions.Time.Testing;

namespace Nudge.Cli.Demo;

/// <summary>
/// The demo's virtual time. Moving the clock and firing what waits on it are two moves: the demo
/// moves to the end of a simulated hour, hands in that hour's events, and only once they are stored
/// fires the timers — so a journey's wait never overtakes an event that happened before it was due,
/// and the same seed plays out the same way every run.
/// </summary>
internal sealed class DemoClock(DateTimeOffset start) : TimeProvider
{
    // FakeTimeProvider keeps the timers (Task.Delay on this clock); its own time trails ours until fired.
    private readonly FakeTimeProvider _timers = new(start);
    private long _nowTicks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _nowTicks), TimeSpan.Zero);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        _timers.CreateTimer(callback, state, dueTime, period);

    /// <summary>Moves the time everything reads; nothing waiting on the clock fires yet.</summary>
    public void MoveTo(DateTimeOffset at)
    {
        if (at > GetUtcNow()) Interlocked.Exchange(ref _nowTicks, at.UtcTicks);
    }

    /// <summary>Fires every timer due by the current time.</summary>
    public void FireTimers() => _timers.SetUtcNow(GetUtcNow());
}
