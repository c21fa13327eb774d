namespace Nudge.Runtime.Dispatch;

/// <summary>
/// Tells the dispatcher that events were committed, so it reads them at once instead of at its next
/// poll. Losing a signal only costs a poll interval; nothing depends on it for correctness.
/// </summary>
public sealed class EventLogSignal
{
    private TaskCompletionSource _committed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Events were committed to the log.</summary>
    public void Committed() => Interlocked.Exchange(ref _committed, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Waits for the next commit, at most <paramref name="timeout"/>.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var committed = Volatile.Read(ref _committed).Task;
        await Task.WhenAny(committed, Task.Delay(timeout, cancellationToken));
        cancellationToken.ThrowIfCancellationRequested();
    }
}
