using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nudge.Engine.Events;
using Nudge.Runtime.Customers;
using Nudge.Storage;
using Orleans;
using Orleans.Concurrency;

namespace Nudge.Runtime.Dispatch;

/// <summary>
/// Tails the event log and hands each customer's events to their grain, in log order. A round reads
/// a batch and waits until every grain has applied its share. Every <see cref="RuntimeOptions.WriteBackInterval"/>
/// (or when the log runs dry) all changed states are written back together with the checkpoint — the
/// last round they include — in one transaction, so a busy customer is written once per interval, not
/// once per event. After a crash the log is replayed from the checkpoint; grains skip what their
/// stored state already holds, so every event is applied once. A customer whose events keep failing
/// while others' apply is set aside (<see cref="Quarantine"/>) so that everyone else goes on.
/// </summary>
public sealed partial class LogDispatcher(
    INudgeStore store, CustomerGrains grains, StateWriter writer, EventLogSignal signal, Quarantine quarantine, RuntimeOptions options, ILogger<LogDispatcher> logger)
    : BackgroundService
{
    /// <summary>The runtime setting holding the last dispatched and written-back log position.</summary>
    public const string CheckpointKey = "dispatch_position";

    private long _position = -1;
    private long _dispatched = -1;
    private TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _running = new(1, 1);

    /// <summary>The last log position every customer has applied, written back or not yet; -1 before the dispatcher has started.</summary>
    public long Applied => Volatile.Read(ref _dispatched);

    /// <summary>The last log position whose effects are written back; -1 before the dispatcher has started.</summary>
    public long Position => Interlocked.Read(ref _position);

    /// <summary>Waits until every event up to <paramref name="position"/> is applied and written back.</summary>
    public async Task WaitForAsync(long position, CancellationToken cancellationToken)
    {
        while (true)
        {
            var advanced = Volatile.Read(ref _advanced).Task;
            if (Position >= position) return;
            await advanced.WaitAsync(cancellationToken);
        }
    }

    private void Advance(long position)
    {
        Interlocked.Exchange(ref _position, position);
        Interlocked.Exchange(ref _advanced, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>
    /// Holds dispatching after the current round until the returned handle is disposed (maintenance,
    /// benchmarks). Events keep being accepted and wait in the log.
    /// </summary>
    public async Task<IDisposable> PauseAsync(CancellationToken cancellationToken)
    {
        await _running.WaitAsync(cancellationToken);
        return new Hold(_running);
    }

    public override void Dispose()
    {
        _running.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var position = long.Parse(await store.GetMetaAsync(CheckpointKey, stoppingToken) ?? "0", CultureInfo.InvariantCulture);
        await quarantine.LoadAsync(stoppingToken);
        Advance(position);
        Volatile.Write(ref _dispatched, position);
        // A write-back overlaps the following rounds: storage works while grains compute.
        Task written = Task.CompletedTask;
        var writtenUpTo = position;
        var lastWriteBack = Stopwatch.GetTimestamp();
        // The next batch is read while the current one is applied.
        Task<IReadOnlyList<OwnedEvent>>? readAhead = null;
        var failures = 0;
        var failingSince = 0L;
        while (!stoppingToken.IsCancellationRequested)
        {
            var idle = false;
            await _running.WaitAsync(stoppingToken);
            try
            {
                // A write-back that failed in the background is handled like a failed round.
                if (written.IsFaulted) await written;
                var batch = await (readAhead ?? ReadAsync(position, stoppingToken));
                readAhead = null;
                if (batch.Count > 0)
                {
                    readAhead = ReadAsync(batch[^1].Event.Position, stoppingToken);
                    var setAsideAlone = failures > 0 && Stopwatch.GetElapsedTime(failingSince) >= options.SetAsideAloneAfter;
                    await DispatchAsync(batch, setAsideAlone, stoppingToken);
                    position = batch[^1].Event.Position;
                    Volatile.Write(ref _dispatched, position);
                    failures = 0;
                }

                idle = batch.Count == 0;
                var due = Stopwatch.GetElapsedTime(lastWriteBack) >= options.WriteBackInterval || writer.PendingCount >= options.MaxPendingStates;
                if (position > writtenUpTo && (idle || due))
                {
                    // The previous write-back is durable before this one's checkpoint is written. A state
                    // written early with later events in it is safe: its position makes a replay skip them.
                    await written;
                    written = WriteBackAsync(position, stoppingToken);
                    (writtenUpTo, lastWriteBack) = (position, Stopwatch.GetTimestamp());
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // A failed round is retried from the checkpoint; the loop must survive it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                // Grains skip what they already applied, so retrying from the last durable checkpoint is safe.
                if (failures++ == 0) failingSince = Stopwatch.GetTimestamp();
                written = Task.CompletedTask;
                readAhead = null;
                position = writtenUpTo = Position;
                Volatile.Write(ref _dispatched, position);
                LogRoundFailed(logger, e, position, failures);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(10_000, 100 * Math.Pow(2, Math.Min(failures, 10)))), stoppingToken);
            }
            finally
            {
                _running.Release();
            }

            if (idle) await signal.WaitAsync(options.DispatchPoll, stoppingToken);
        }
    }

    private Task<IReadOnlyList<OwnedEvent>> ReadAsync(long after, CancellationToken cancellationToken) =>
        Task.Run(() => store.ReadLogForDispatchAsync(after, options.DispatchBatch, cancellationToken), cancellationToken);

    private Task WriteBackAsync(long position, CancellationToken cancellationToken) => Task.Run(async () =>
    {
        await writer.FlushAsync(new Dictionary<string, string> { [CheckpointKey] = position.ToString(CultureInfo.InvariantCulture) }, cancellationToken);
        Advance(position);
    }, cancellationToken);

    private Task DispatchAsync(IReadOnlyList<OwnedEvent> batch, bool setAsideAlone, CancellationToken cancellationToken)
    {
        // Events of an anonymous id nobody has claimed yet wait in the log; the customer who claims
        // the id later folds them in by rebuilding from the log.
        Dictionary<string, List<StoredEvent>> byCustomer = new(StringComparer.Ordinal);
        var anyoneAside = !quarantine.IsEmpty;
        foreach (var (e, owner) in batch)
        {
            if (owner is null || (anyoneAside && quarantine.Contains(owner))) continue;
            if (!byCustomer.TryGetValue(owner, out var events)) byCustomer[owner] = events = [];
            events.Add(e);
        }

        return quarantine.CallEachAsync(
            [.. byCustomer.Select(c => new CustomerCall(c.Key, c.Value[0].Position, CallOf(c.Key, [.. c.Value])))], setAsideAlone, cancellationToken);
    }

    private Func<Task> CallOf(string customerId, StoredEvent[] events) => () => grains.Get(customerId).ApplyAsync(events.AsImmutable());

    /// <summary>
    /// Applies a set-aside customer's waiting events, in log order (or, with <paramref name="rebuild"/>,
    /// folds them afresh from the whole log), and ends their quarantine. Throws (and they stay aside)
    /// when that still fails. False when the customer was not set aside.
    /// </summary>
    public async Task<bool> ReleaseAsync(string customerId, bool rebuild, CancellationToken cancellationToken)
    {
        using var hold = await PauseAsync(cancellationToken);
        if (!quarantine.Contains(customerId)) return false;
        var dispatched = Volatile.Read(ref _dispatched);
        if (dispatched < 0) throw new InvalidOperationException("The dispatcher has not started yet; release the customer once it runs.");
        await grains.Get(customerId).CatchUpAsync(dispatched, rebuild);
        // Durable before the quarantine ends: a restart replays from a checkpoint that may be past the
        // events applied here, and must find them in the customer's state.
        await writer.FlushAsync(null, cancellationToken);
        await quarantine.RemoveAsync(customerId, cancellationToken);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Dispatching the event log after position {Position} failed (attempt {Attempt}); retrying from there")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception, long position, int attempt);
}
