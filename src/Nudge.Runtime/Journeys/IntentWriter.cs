using Microsoft.Extensions.DependencyInjection;
using Nudge.Engine.Messaging;
using Nudge.Runtime.Delivery;
using Nudge.Storage;

namespace Nudge.Runtime.Journeys;

/// <summary>
/// Group commit for the message intents journey steps make. Each grain waits until its intent is
/// durable in the outbox (so the state recording the step is never written first), but the intents of
/// all grains arriving while one write is in flight go together in the next transaction: one write per
/// round instead of one per message, and no waiting when there is nothing else to wait for.
/// </summary>
public sealed class IntentWriter(INudgeStore store, IServiceProvider services, TimeProvider time)
{
    private readonly Lock _lock = new();
    private List<(MessageIntent Intent, TaskCompletionSource<bool> Done)> _pending = [];
    private bool _writing;

    // Bounds one transaction; the rest go in the next.
    private const int MaxBatch = 5000;

    /// <summary>Queues an intent; completes once it is durable, with whether it made a new message.</summary>
    public Task<bool> EnqueueAsync(MessageIntent intent)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var start = false;
        lock (_lock)
        {
            _pending.Add((intent, done));
            if (!_writing) _writing = start = true;
        }

        if (start) _ = Task.Run(WriteAsync);
        return done.Task;
    }

    private async Task WriteAsync()
    {
        while (true)
        {
            List<(MessageIntent Intent, TaskCompletionSource<bool> Done)> batch;
            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    _writing = false;
                    return;
                }

                if (_pending.Count <= MaxBatch) (batch, _pending) = (_pending, []);
                else
                {
                    batch = _pending[..MaxBatch];
                    _pending.RemoveRange(0, MaxBatch);
                }
            }

            try
            {
                var created = await store.EnqueueMessagesAsync([.. batch.Select(b => b.Intent)], time.GetUtcNow(), CancellationToken.None);
                for (var i = 0; i < batch.Count; i++) batch[i].Done.SetResult(created[i]);
                if (created.Any(c => c)) services.GetService<OutboxSignal>()?.Pulse();
            }
#pragma warning disable CA1031 // The failure goes to every waiting grain, which retries its whole step.
            catch (Exception e)
#pragma warning restore CA1031
            {
                foreach (var (_, done) in batch) done.SetException(e);
            }
        }
    }
}
