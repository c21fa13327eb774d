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
/// a batch, waits until every grain has applied its share, then writes back all changed states
/// together with the new checkpoint in one transaction. After a crash the log is replayed from the
/// checkpoint; grains skip what their stored state already holds, so every event is applied once.
/// </summary>
public sealed partial class LogDispatcher(
    INudgeStore store, IGrainFactory grains, StateWriter writer, EventLogSignal signal, RuntimeOptions options, ILogger<LogDispatcher> logger)
    : BackgroundService
{
    /// <summary>The runtime setting holding the last dispatched and written-back log position.</summary>
    public const string CheckpointKey = "dispatch_position";

    private long _position = -1;

    /// <summary>The last log position whose effects are written back; -1 before the dispatcher has started.</summary>
    public long Position => Interlocked.Read(ref _position);

    /// <summary>Waits until every event up to <paramref name="position"/> is applied and written back.</summary>
    public async Task WaitForAsync(long position, CancellationToken cancellationToken)
    {
        while (Position < position) await Task.Delay(5, cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var position = long.Parse(await store.GetMetaAsync(CheckpointKey, stoppingToken) ?? "0", CultureInfo.InvariantCulture);
        Interlocked.Exchange(ref _position, position);
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var batch = await store.ReadLogForDispatchAsync(position, options.DispatchBatch, stoppingToken);
                if (batch.Count == 0)
                {
                    await signal.WaitAsync(options.DispatchPoll, stoppingToken);
                    continue;
                }

                await DispatchAsync(batch);
                position = batch[^1].Event.Position;
                await writer.FlushAsync(new Dictionary<string, string> { [CheckpointKey] = position.ToString(CultureInfo.InvariantCulture) }, stoppingToken);
                Interlocked.Exchange(ref _position, position);
                failures = 0;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // A failed round is retried from the checkpoint; the loop must survive it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                // Grains skip what they already applied, so retrying the round from the checkpoint is safe.
                failures++;
                LogRoundFailed(logger, e, position, failures);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(10_000, 100 * Math.Pow(2, Math.Min(failures, 10)))), stoppingToken);
            }
        }
    }

    private Task DispatchAsync(IReadOnlyList<OwnedEvent> batch)
    {
        // Events of an anonymous id nobody has claimed yet wait in the log; the customer who claims
        // the id later folds them in by rebuilding from the log.
        Dictionary<string, List<StoredEvent>> byCustomer = new(StringComparer.Ordinal);
        foreach (var (e, owner) in batch)
        {
            if (owner is null) continue;
            if (!byCustomer.TryGetValue(owner, out var events)) byCustomer[owner] = events = [];
            events.Add(e);
        }

        return Task.WhenAll(byCustomer.Select(c => grains.GetGrain<ICustomerGrain>(c.Key).ApplyAsync(c.Value.ToArray().AsImmutable())));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Dispatching the event log after position {Position} failed (attempt {Attempt}); retrying from there")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception, long position, int attempt);
}
