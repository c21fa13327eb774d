namespace Nudge.Runtime;

/// <summary>
/// Wakes a background loop when there is work, so it acts at once instead of at its next poll. Losing
/// a pulse only costs a poll interval; nothing depends on it for correctness.
/// </summary>
public abstract class Signal
{
    private TaskCompletionSource _pulsed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>There is work.</summary>
    public void Pulse() => Interlocked.Exchange(ref _pulsed, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Waits for the next pulse, at most <paramref name="timeout"/> (real time).</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var pulsed = Volatile.Read(ref _pulsed).Task;
        await Task.WhenAny(pulsed, Task.Delay(timeout, cancellationToken));
        cancellationToken.ThrowIfCancellationRequested();
    }
}
