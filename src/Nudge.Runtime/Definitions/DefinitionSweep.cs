using Microsoft.Extensions.Logging;
using Nudge.Engine.Customers;
using Nudge.Runtime.Customers;
using Nudge.Storage;
using Orleans;

namespace Nudge.Runtime.Definitions;

/// <summary>Progress of re-evaluating every customer after a definition change.</summary>
/// <param name="Version">The definitions version being applied.</param>
/// <param name="Done">Customers re-evaluated.</param>
/// <param name="Total">Customers to re-evaluate.</param>
/// <param name="Finished">Whether every customer has been re-evaluated.</param>
public sealed record SweepProgress(long Version, long Done, long Total, bool Finished);

/// <summary>
/// After a definition changes, every customer is re-evaluated through their grain — the same code path
/// as live events, so entering and leaving are recorded as changes and new event conditions count
/// the events from before they existed. Runs in the background with bounded concurrency; a newer
/// change restarts it.
/// </summary>
public sealed partial class DefinitionSweep(INudgeStore store, IGrainFactory grains, StateWriter writer, DefinitionsRegistry definitions, ILogger<DefinitionSweep> logger)
{
    private const int Concurrency = 64;
    private CancellationTokenSource? _running;
    private Task _task = Task.CompletedTask;
    private SweepProgress _progress = new(0, 0, 0, true);

    /// <summary>Progress of the latest sweep.</summary>
    public SweepProgress Progress => Volatile.Read(ref _progress);

    /// <summary>Starts re-evaluating every customer against the current definitions, cancelling a sweep still running.</summary>
    public void Start()
    {
        var previous = Interlocked.Exchange(ref _running, new CancellationTokenSource());
        previous?.Cancel();
        var token = _running!.Token;
        _task = Task.Run(() => RunAsync(token), CancellationToken.None);
    }

    /// <summary>Waits for the current sweep to end (tests, benchmarks).</summary>
    public Task WhenFinishedAsync() => _task;

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var version = definitions.Current.Version;
        try
        {
            var total = await store.CountStatesAsync(cancellationToken);
            Volatile.Write(ref _progress, new SweepProgress(version, 0, total, false));
            long done = 0;
            using var slots = new SemaphoreSlim(Concurrency);
            List<Task> running = [];
            await foreach (var bytes in store.ScanStatesAsync(cancellationToken))
            {
                var id = CustomerStateCodec.CustomerId(bytes);
                await slots.WaitAsync(cancellationToken);
                running.Add(Refresh(id));
                if (running.Count >= 4 * Concurrency) running.RemoveAll(t => t.IsCompleted);
            }

            await Task.WhenAll(running);
            await writer.FlushAsync(null, cancellationToken);
            Volatile.Write(ref _progress, new SweepProgress(version, done, total, true));

            async Task Refresh(string customerId)
            {
                try
                {
                    await grains.GetGrain<ICustomerGrain>(customerId).RefreshAsync();
                    var n = Interlocked.Increment(ref done);
                    if (n % 1000 == 0) Volatile.Write(ref _progress, new SweepProgress(version, n, total, false));
                }
                finally
                {
                    slots.Release();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // A newer change started its own sweep.
        }
#pragma warning disable CA1031 // The sweep is background work; its failure is logged and shown in progress, not thrown.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogSweepFailed(logger, e, version);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Re-evaluating customers for definitions version {Version} failed")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception, long version);
}
