using System.Threading.Channels;
using Nudge.Engine.Events;

namespace Nudge.Server.Ingestion;

/// <summary>
/// Requests waiting for their events to be committed. Bounded by the number of events it holds, so
/// memory stays bounded under overload: a request that does not fit is refused (429), not queued.
/// </summary>
public sealed class IngestQueue(NudgeOptions options)
{
    private readonly Channel<IngestWork> _channel = Channel.CreateUnbounded<IngestWork>(new UnboundedChannelOptions { SingleReader = true });
    private int _queuedEvents;

    /// <summary>Events accepted but not yet committed.</summary>
    public int QueuedEvents => Volatile.Read(ref _queuedEvents);

    /// <summary>Queues the events for commit; false when the queue is full.</summary>
    /// <param name="events">Validated events of one request.</param>
    /// <param name="committed">Completes when the events are durable (or faults when the commit failed).</param>
    public bool TryEnqueue(IReadOnlyList<IncomingEvent> events, out Task<AppendResult> committed)
    {
        if (Interlocked.Add(ref _queuedEvents, events.Count) > options.IngestQueueEvents)
        {
            Interlocked.Add(ref _queuedEvents, -events.Count);
            committed = Task.FromResult(default(AppendResult));
            return false;
        }

        var work = new IngestWork(events);
        if (!_channel.Writer.TryWrite(work))
        {
            Interlocked.Add(ref _queuedEvents, -events.Count);
            committed = Task.FromException<AppendResult>(new InvalidOperationException("The ingest queue is closed: the server is stopping."));
            return true;
        }

        committed = work.Committed.Task;
        return true;
    }

    internal ChannelReader<IngestWork> Reader => _channel.Reader;

    internal void Complete() => _channel.Writer.TryComplete();

    internal void Dequeued(int events) => Interlocked.Add(ref _queuedEvents, -events);
}

internal sealed class IngestWork(IReadOnlyList<IncomingEvent> events)
{
    public IReadOnlyList<IncomingEvent> Events { get; } = events;

    public TaskCompletionSource<AppendResult> Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
