using Nudge.Runtime.Delivery;

namespace Nudge.Server.Tests;

/// <summary>
/// Regression: a pulse that came while the woken loop was busy was lost, so work committed during a
/// round waited a whole poll interval (250 ms for dispatch by default) before anyone looked.
/// </summary>
public sealed class SignalLostPulse
{
    [Fact]
    public async Task a_pulse_while_the_loop_is_busy_wakes_its_next_wait_at_once_and_only_once()
    {
        var signal = new OutboxSignal();
        signal.Pulse(); // work arrived while the loop was not waiting

        var kept = signal.WaitAsync(TimeSpan.FromMinutes(10), CancellationToken.None);
        Assert.True(kept.IsCompleted, "the kept pulse should end the wait at once");
        await kept;

        var next = signal.WaitAsync(TimeSpan.FromMinutes(10), CancellationToken.None);
        Assert.False(next.IsCompleted, "the pulse was consumed: the next wait waits for new work");
        signal.Pulse();
        await next.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
