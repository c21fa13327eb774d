using Nudge.Engine.Events;
using Nudge.Runtime.Dispatch;
using Nudge.Storage;

namespace Nudge.Server.Ingestion;

/// <summary>
/// Commits queued events. Whatever has queued up while the previous commit ran goes into the next
/// transaction (group commit), so one fsync acknowledges many requests. A request is acknowledged only
/// after the transaction holding its events has committed.
/// </summary>
public sealed partial class IngestWriter(IngestQueue queue, INudgeStore store, NudgeOptions options, IngestMetrics metrics, EventLogSignal signal, ILogger<IngestWriter> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        List<IngestWork> group = [];
        List<IncomingEvent> events = [];
        var reader = queue.Reader;
        // Stopping completes the queue; what was accepted before that is still committed.
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            group.Clear();
            events.Clear();
            while (events.Count < options.MaxEventsPerCommit && reader.TryRead(out var work))
            {
                group.Add(work);
                events.AddRange(work.Events);
            }

            await CommitAsync(group, events);
            queue.Dequeued(events.Count, group.Sum(w => w.Bytes));
        }
    }

    private async Task CommitAsync(List<IngestWork> group, List<IncomingEvent> events)
    {
        try
        {
            var result = await store.AppendAsync(events, options.DedupeWindow, CancellationToken.None);
            metrics.Committed(result);
            if (result.Stored > 0) signal.Committed();
            foreach (var work in group) work.Committed.TrySetResult(result);
        }
#pragma warning disable CA1031 // Any failure to commit is reported to the waiting requests (503), never swallowed.
        catch (Exception e) when (group.Count > 1)
        {
            // One request's events must not fail the others grouped with it: commit each on its own.
            LogGroupRetried(logger, e, group.Count);
            foreach (var work in group) await CommitAsync([work], [.. work.Events]);
        }
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogCommitFailed(logger, e, events.Count);
            group[0].Committed.TrySetException(e);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Complete();
        await base.StopAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A group commit of {Requests} requests failed; committing them one by one")]
    private static partial void LogGroupRetried(ILogger logger, Exception exception, int requests);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not commit {Count} events; their request gets 503 and will be retried by the sender")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int count);
}
