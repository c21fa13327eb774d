using System.Threading.Channels;
using Nudge.Engine.Events;

namespace Nudge.Server.Ingestion;

/// <summary>
/// Requests waiting for their events to be committed. Bounded by the events and the bytes of JSON it
/// holds, so memory stays bounded under overload: a request that does not fit is refused (429), not queued.
/// </summary>
public sealed class IngestQueue(NudgeOptions options)
{
    private readonly Channel<IngestWork> _channel = Channel.CreateUnbounded<IngestWork>(new UnboundedChannelOptions { SingleReader = true });
    private int _queuedEvents;
    private long _queuedBytes;

    /// <summary>Events accepted but not yet committed.</summary>
    public int QueuedEvents => Volatile.Read(ref _queuedEvents);

    /// <summary>Queues the events for commit; false when the queue is full.</summary>
    /// <param name="events">Validated events of one request.</param>
    /// <param name="committed">Completes when the events are durable (or faults when the commit failed).</param>
    public bool TryEnqueue(IReadOnlyList<IncomingEvent> events, out Task<AppendResult> committed)
    {
        var bytes = Bytes(events);
        if (Interlocked.Add(ref _queuedEvents, events.Count) > options.IngestQueueEvents
            | Interlocked.Add(ref _queuedBytes, bytes) > options.IngestQueueBytes)
        {
            Dequeued(events.Count, bytes);
            committed = Task.FromResult(default(AppendResult));
            return false;
        }

        var work = new IngestWork(events, bytes);
        if (!_channel.Writer.TryWrite(work))
        {
            Dequeued(events.Count, bytes);
            committed = Task.FromException<AppendResult>(new InvalidOperationException("The ingest queue is closed: the server is stopping."));
            return true;
        }

        committed = work.Committed.Task;
        return true;
    }

    internal ChannelReader<IngestWork> Reader => _channel.Reader;

    internal void Complete() => _channel.Writer.TryComplete();

    internal void Dequeued(int events, long bytes)
    {
        Interlocked.Add(ref _queuedEvents, -events);
        Interlocked.Add(ref _queuedBytes, -bytes);
    }

    /// <summary>What the events hold in memory, roughly: their JSON.</summary>
    private static long Bytes(IReadOnlyList<IncomingEvent> events)
    {
        long bytes = 0;
        foreach (var e in events) bytes += e.Utf8Json.Length;
        return bytes;
    }
}

internal sealed class IngestWork(IReadOnlyList<IncomingEvent> events, long bytes)
{
    public IReadOnlyList<IncomingEvent> Events { get; } = events;

    public long Bytes { get; } = bytes;

    public TaskCompletionSource<AppendResult> Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
