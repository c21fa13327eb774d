namespace Nudge.Storage.Sqlite;

/// <summary>
/// The one SQLite writer connection, taken by one write at a time. Shops are acknowledged only once their events are
/// durable, so appends to the event log go before every other queued write: the runtime's write-backs
/// and the outbox can wait a little, a shop's request should not wait behind them.
/// </summary>
internal sealed class WriterLock
{
    private readonly Lock _gate = new();
    private readonly Queue<TaskCompletionSource> _first = new();
    private readonly Queue<TaskCompletionSource> _others = new();
    private bool _held;

    /// <summary>Waits for the writer; <paramref name="first"/> writes are served before any other waiting write.</summary>
    public async Task EnterAsync(bool first, CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        lock (_gate)
        {
            if (!_held)
            {
                _held = true;
                return;
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            (first ? _first : _others).Enqueue(waiter);
        }

        // A cancelled waiter stays queued; Exit passes over it.
        using (cancellationToken.Register(() => waiter.TrySetCanceled(cancellationToken))) await waiter.Task;
    }

    /// <summary>Hands the writer to the next waiting write, or frees it.</summary>
    public void Exit()
    {
        lock (_gate)
        {
            while (_first.Count > 0 || _others.Count > 0)
            {
                var next = _first.Count > 0 ? _first.Dequeue() : _others.Dequeue();
                if (next.TrySetResult()) return;
            }

            _held = false;
        }
    }
}
