using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Nudge.Engine.Customers;
using Nudge.Engine.Definitions;
using Nudge.Engine.Journeys;
using Nudge.Runtime.Customers;
using Nudge.Runtime.Journeys;
using Nudge.Storage;

namespace Nudge.Runtime.Definitions;

/// <summary>Progress of re-evaluating every customer after a definition change.</summary>
/// <param name="Version">The definitions version being applied.</param>
/// <param name="Done">Customers re-evaluated.</param>
/// <param name="Total">Customers to re-evaluate.</param>
/// <param name="Finished">Whether every customer has been re-evaluated.</param>
/// <param name="Changed">Customers the change touched (they entered or left something, or wait for a new time): each went through their grain.</param>
/// <param name="Failed">Customers whose re-evaluation failed (logged); the others are not held up by them.</param>
public sealed record SweepProgress(long Version, long Done, long Total, bool Finished, long Changed = 0, long Failed = 0);

/// <summary>
/// After a definition changes, every customer is re-evaluated. The stored states are read and
/// evaluated set-based, one part per core, as a full re-evaluation: a customer the change does not
/// touch is left alone, neither activated nor written. A customer it does touch — entering or leaving
/// a segment, a tag, a stage, a new time to wake, a new event condition to count from the log — goes
/// through their grain, the same code path as live events, so every change is recorded and journeys
/// see it. A newer change restarts the sweep.
/// </summary>
public sealed partial class DefinitionSweep(
    INudgeStore store, CustomerGrains grains, StateWriter writer, DefinitionsRegistry definitions, JourneyRegistry journeys, TimeProvider time, ILogger<DefinitionSweep> logger)
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
        var defs = definitions.Current;
        var counts = new Counts();
        try
        {
            // Every state evaluated against the earlier definitions is stored before the scan begins.
            // A grain call still running when these were installed evaluates again by itself once it
            // has handed its state on (CustomerGrain.EvaluateAsync), so no customer is missed.
            await writer.FlushAsync(null, cancellationToken);
            var total = await store.CountStatesAsync(cancellationToken);
            Report(defs, counts, total, finished: false);
            var touched = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
            var refreshing = RefreshAsync(touched.Reader, defs, counts, total, cancellationToken);
            var now = time.GetUtcNow();
            var runner = journeys.Runner;
            try
            {
                // Only what evaluating and waking read is decoded: most of a customer is stepped over.
                var reads = defs.Reads | runner.WakeReads;
                await store.VisitStatesAsync(Environment.ProcessorCount, _ =>
                {
                    List<CustomerChange> changes = [];
                    return bytes =>
                    {
                        if (Touched(bytes, reads, defs, runner, now, changes) is { } id) touched.Writer.TryWrite(id);
                        else if (Interlocked.Increment(ref counts.Done) % 10_000 == 0) Report(defs, counts, total, finished: false);
                    };
                }, cancellationToken);
            }
            finally
            {
                touched.Writer.Complete();
            }

            await refreshing;
            await writer.FlushAsync(null, cancellationToken);
            Report(defs, counts, total, finished: true);
            if (counts.Failed > 0) LogSomeFailed(logger, counts.Failed, defs.Version);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // A newer change started its own sweep.
        }
#pragma warning disable CA1031 // The sweep is background work; its failure is logged and shown in progress, not thrown.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogSweepFailed(logger, e, defs.Version);
        }
    }

    private sealed class Counts
    {
        public long Done, Changed, Failed;
    }

    private void Report(DefinitionSet defs, Counts counts, long total, bool finished) =>
        Volatile.Write(ref _progress, new SweepProgress(defs.Version, Interlocked.Read(ref counts.Done), total, finished, Interlocked.Read(ref counts.Changed), Interlocked.Read(ref counts.Failed)));

    /// <summary>
    /// The customer's id when the definitions change something about them, else null: a decoded copy
    /// is evaluated exactly as their grain would evaluate it. A state not yet written may be newer
    /// than the stored one, but it was evaluated after the scan began, so against these definitions
    /// (or its grain evaluates it again): only a customer who looks touched needs a second look.
    /// </summary>
    private string? Touched(ReadOnlySpan<byte> stored, StateParts reads, DefinitionSet defs, JourneyRunner runner, DateTimeOffset now, List<CustomerChange> changes)
    {
        CustomerState s;
        try
        {
            s = CustomerStateCodec.Decode(stored, reads);
        }
        catch (InvalidDataException)
        {
            // Unreadable here is unreadable for the grain too; it fails there, counted and logged.
            return CustomerIdOrEmpty(stored);
        }

        // A grain has evaluated this state against these very definitions.
        if (s.DefinitionsVersion == defs.Version) return null;
        // A new event condition counts from the log, which only the grain reads.
        if (s.Position > 0 && s.TrackersSignature != defs.TrackersSignature) return Current(s.CustomerId);
        var before = s.NextCheckAt;
        changes.Clear();
        CustomerEvaluator.Evaluate(s, defs, now, changes);
        if (changes.Count > 0) return Current(s.CustomerId);
        if (runner.NextWake(s, now) is { } wake && (s.NextCheckAt is null || wake < s.NextCheckAt)) s.NextCheckAt = wake;
        return s.NextCheckAt == before ? null : Current(s.CustomerId);
    }

    /// <summary>The id, unless the customer was merged into another since the scan began.</summary>
    private string? Current(string customerId) => writer.Pending(customerId) is (true, null) ? null : customerId;

    private static string CustomerIdOrEmpty(ReadOnlySpan<byte> stored)
    {
        try
        {
            return CustomerStateCodec.CustomerId(stored);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            return "";
        }
    }

    private async Task RefreshAsync(ChannelReader<string> touched, DefinitionSet defs, Counts counts, long total, CancellationToken cancellationToken)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(touched.ReadAllAsync(cancellationToken), options, async (id, _) =>
        {
            Interlocked.Increment(ref counts.Changed);
            try
            {
                if (id.Length == 0) throw new InvalidDataException("A stored customer state is unreadable: not even its customer id can be read.");
                await grains.Get(id).RefreshAsync();
            }
#pragma warning disable CA1031 // One customer's failure is counted and logged; the rest are still re-evaluated.
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
            {
                if (Interlocked.Increment(ref counts.Failed) <= MaxLoggedFailures) LogCustomerFailed(logger, e, id, defs.Version);
            }

            if (Interlocked.Increment(ref counts.Done) % 1000 == 0) Report(defs, counts, total, finished: false);
        });
    }

    // Beyond this, failures are only counted: a broken store would otherwise log once per customer.
    private const int MaxLoggedFailures = 20;

    [LoggerMessage(Level = LogLevel.Error, Message = "Re-evaluating customers for definitions version {Version} failed")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception, long version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Re-evaluating customer '{CustomerId}' for definitions version {Version} failed")]
    private static partial void LogCustomerFailed(ILogger logger, Exception exception, string customerId, long version);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Failed} customers could not be re-evaluated for definitions version {Version}; the first are logged above")]
    private static partial void LogSomeFailed(ILogger logger, long failed, long version);
}
