using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Nudge.Engine.Customers;
using Nudge.Engine.Definitions;
using Nudge.Engine.Journeys;
using Nudge.Engine.Segments;
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
/// see it. Once a sweep has finished, later segment changes need only those segments evaluated. A
/// newer change restarts the sweep.
/// </summary>
public sealed partial class DefinitionSweep(
    INudgeStore store, CustomerGrains grains, StateWriter writer, DefinitionsRegistry definitions, JourneyRegistry journeys, TimeProvider time, ILogger<DefinitionSweep> logger)
{
    private const int Concurrency = 64;
    private readonly Lock _lock = new();
    // What changed since the last sweep that finished, after which every customer agreed with the
    // definitions: segment ids when only segments did; null when anything else did, or nothing has
    // been swept since start, so every definition must be evaluated.
    private HashSet<string>? _changedSegments;
    private long _generation;
    private CancellationTokenSource? _running;
    private Task _task = Task.CompletedTask;
    private SweepProgress _progress = new(0, 0, 0, true);

    /// <summary>Progress of the latest sweep.</summary>
    public SweepProgress Progress => Volatile.Read(ref _progress);

    /// <summary>
    /// Starts re-evaluating every customer against the current definitions, cancelling a sweep still
    /// running. <paramref name="segmentId"/> names the segment saved or deleted, when that is all that
    /// changed: if only segments have changed since the last finished sweep, customers are checked
    /// against those segments only. Null (tags, stages, RFM) evaluates every definition.
    /// </summary>
    public void Start(string? segmentId = null)
    {
        lock (_lock)
        {
            if (segmentId is null) _changedSegments = null;
            else _changedSegments?.Add(segmentId);
            var previous = Interlocked.Exchange(ref _running, new CancellationTokenSource());
            previous?.Cancel();
            var token = _running!.Token;
            var since = _changedSegments is null ? null : new HashSet<string>(_changedSegments, StringComparer.Ordinal);
            var generation = ++_generation;
            _task = Task.Run(() => RunAsync(since, generation, token), CancellationToken.None);
        }
    }

    /// <summary>Every customer agrees with the definitions now, unless a newer change came meanwhile.</summary>
    private void Swept(long generation)
    {
        lock (_lock)
            if (generation == _generation) _changedSegments = new HashSet<string>(StringComparer.Ordinal);
    }

    /// <summary>Waits for the current sweep to end (tests, benchmarks).</summary>
    public Task WhenFinishedAsync() => _task;

    // since: segments changed since the last finished sweep, or null to evaluate every definition.
    private async Task RunAsync(IReadOnlySet<string>? since, long generation, CancellationToken cancellationToken)
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
                var check = new Check(defs, runner, now, Incremental.Of(since, defs));
                await store.VisitStatesAsync(Environment.ProcessorCount, _ =>
                {
                    List<CustomerChange> changes = [];
                    return bytes =>
                    {
                        if (Touched(bytes, check, changes) is { } id) touched.Writer.TryWrite(id);
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
            // A customer who could not be re-evaluated may disagree with the definitions: the next change evaluates everything again.
            if (counts.Failed == 0) Swept(generation);
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

    /// <summary>What a sweep evaluates each customer against.</summary>
    private sealed record Check(DefinitionSet Definitions, JourneyRunner Runner, DateTimeOffset Now, Incremental? Incremental)
    {
        // Only what evaluating and waking read is decoded: most of a customer is stepped over.
        public StateParts Reads { get; } = Definitions.Reads | Runner.WakeReads;
    }

    /// <summary>
    /// Only segments changed since the last finished sweep, after which every customer agreed with
    /// the rest of the definitions: a customer is touched only if they enter or leave one of these
    /// segments, or one of them is due before the customer's timer. Everything else evaluates as it
    /// did (and what time alone changes, their timer sees to).
    /// </summary>
    private sealed record Incremental(IReadOnlyList<SegmentDefinition> Segments, IReadOnlyList<string> Removed, StateParts Reads)
    {
        public static Incremental? Of(IReadOnlySet<string>? since, DefinitionSet defs)
        {
            if (since is null) return null;
            var current = defs.Segments.Where(s => since.Contains(s.Id)).ToList();
            var reads = current.Aggregate(StateParts.Segments, (all, s) => all | s.When.Reads);
            return new Incremental(current, [.. since.Where(id => !defs.SegmentIds.Contains(id))], reads);
        }

        public bool Touches(CustomerState s, DateTimeOffset now)
        {
            var evaluation = new Evaluation(now);
            foreach (var segment in Segments)
                if (segment.When.Evaluate(s, evaluation) != s.Segments.ContainsKey(segment.Id)) return true;
            foreach (var id in Removed)
                if (s.Segments.ContainsKey(id)) return true;
            return evaluation.NextChange is { } next && (s.NextCheckAt is null || next < s.NextCheckAt);
        }
    }

    /// <summary>
    /// The customer's id when the definitions change something about them, else null: a decoded copy
    /// is evaluated exactly as their grain would evaluate it. A state not yet written may be newer
    /// than the stored one, but it was evaluated after the scan began, so against these definitions
    /// (or its grain evaluates it again): only a customer who looks touched needs a second look.
    /// </summary>
    private string? Touched(ReadOnlySpan<byte> stored, Check check, List<CustomerChange> changes)
    {
        var defs = check.Definitions;
        CustomerState s;
        try
        {
            s = CustomerStateCodec.Decode(stored, check.Incremental?.Reads ?? check.Reads);
            // A grain has evaluated this state against these very definitions.
            if (s.DefinitionsVersion == defs.Version) return null;
            // A new event condition counts from the log, which only the grain reads.
            if (s.Position > 0 && s.TrackersSignature != defs.TrackersSignature) return Current(s.CustomerId);
            if (check.Incremental is { } incremental) return incremental.Touches(s, check.Now) ? Current(s.CustomerId) : null;
        }
        catch (InvalidDataException)
        {
            // Unreadable here is unreadable for the grain too; it fails there, counted and logged.
            return CustomerIdOrEmpty(stored);
        }

        var before = s.NextCheckAt;
        changes.Clear();
        CustomerEvaluator.Evaluate(s, defs, check.Now, changes);
        if (changes.Count > 0) return Current(s.CustomerId);
        if (check.Runner.NextWake(s, check.Now) is { } wake && (s.NextCheckAt is null || wake < s.NextCheckAt)) s.NextCheckAt = wake;
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
