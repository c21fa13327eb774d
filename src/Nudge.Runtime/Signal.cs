namespace Nudge.Runtime;

/// <summary>
/// Wakes one background loop when there is work, so it acts at once instead of at its next poll. A
/// pulse that comes while the loop is busy is kept, so it looks again at once. Nothing depends on it
/// for correctness: the poll is the fallback.
/// </summary>
public abstract class Signal
{
    private TaskCompletionSource _pulsed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>There is work. A pulse while nobody waits is kept for the next wait, so none is lost.</summary>
    public void Pulse() => Volatile.Read(ref _pulsed).TrySetResult();

    /// <summary>Waits for the next pulse (or returns at once for one that came meanwhile), at most <paramref name="timeout"/> (real time).</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var pulsed = Volatile.Read(ref _pulsed);
        if (!pulsed.Task.IsCompleted) await Task.WhenAny(pulsed.Task, Task.Delay(timeout, cancellationToken));
        // Consumed: the next wait waits for a new pulse. The caller looks for work after this, so a
        // pulse that lands between the check and the swap is covered by that look.
        if (pulsed.Task.IsCompleted) Interlocked.CompareExchange(ref _pulsed, new(TaskCreationOptions.RunContinuationsAsynchronously), pulsed);
        cancellationToken.ThrowIfCancellationRequested();
    }
}
