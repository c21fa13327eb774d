using System.Diagnostics;
using Nudge.Engine.Customers;
using Nudge.Engine.Events;
using Nudge.Engine.Segments;
using Nudge.Runtime.Segments;
using Nudge.Storage;
using Nudge.Storage.Sqlite;

namespace Nudge.Benchmarks;

/// <summary>
/// Full re-evaluation of 20 segments over every customer stored in SQLite (read, decode, evaluate),
/// beside the ceiling: one pass evaluating the same segments over the same customers already in memory.
/// </summary>
internal static class Reevaluation
{
    public static async Task RunAsync(int customers)
    {
        var directory = Directory.CreateTempSubdirectory("nudge-bench-reeval-").FullName;
        var now = DateTimeOffset.UtcNow;
        var definitions = BenchDefinitions.Load();
        Console.WriteLine($"Re-evaluation: {customers:N0} customers, {definitions.Segments.Count} segments, {Environment.ProcessorCount} cores");

        var clock = Stopwatch.StartNew();
        var states = Build(customers, now, definitions);
        await using var store = new SqliteStore(Path.Combine(directory, "nudge.db"));
        await store.MigrateAsync(CancellationToken.None);
        foreach (var chunk in states.Chunk(20_000))
            await store.SaveStatesAsync([.. chunk.Select(s => new CustomerStateWrite(s.CustomerId, s.Position, s.NextCheckAt, CustomerStateCodec.Encode(s), []))], null, now, CancellationToken.None);
        var bytes = new FileInfo(Path.Combine(directory, "nudge.db")).Length;
        Console.WriteLine($"Prepared in {clock.Elapsed.TotalSeconds:0} s; database {bytes / 1024.0 / 1024:N0} MB ({bytes / customers:N0} bytes per customer)");

        // Ceiling: the same evaluation, on every core, over customers already decoded in memory.
        clock.Restart();
        long ceilingMembers = 0;
        Parallel.For(0, states.Length, () => 0L, (c, _, found) =>
        {
            var evaluation = new Evaluation(now);
            foreach (var segment in definitions.Segments)
                if (segment.When.Evaluate(states[c], evaluation)) found++;
            return found;
        }, found => Interlocked.Add(ref ceilingMembers, found));
        var ceiling = clock.Elapsed;
        // The full pass must not pay for a million decoded customers this process keeps for the ceiling.
        states = [];
        GC.Collect();

        clock.Restart();
        var members = await SegmentEvaluation.MembersAsync(store, definitions, definitions.Segments, now, CancellationToken.None);
        var full = clock.Elapsed;
        var fullMembers = members.Values.Sum(m => (long)m.Count);
        if (fullMembers != ceilingMembers) throw new InvalidOperationException($"Full re-evaluation found {fullMembers} memberships, the in-memory pass {ceilingMembers}.");

        Console.WriteLine();
        Console.WriteLine("| pass | time | customers/s | ratio to ceiling |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine($"| ceiling: in-memory evaluation | {ceiling.TotalSeconds:0.00} s | {customers / ceiling.TotalSeconds:N0} | 100% |");
        Console.WriteLine($"| full re-evaluation from SQLite | {full.TotalSeconds:0.00} s | {customers / full.TotalSeconds:N0} | {ceiling / full:P0} |");
        Console.WriteLine($"{fullMembers:N0} memberships in both passes (target: ≤ 2 s for 1,000,000 customers)");
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>Customers with a few weeks of shopping each, folded and evaluated as the runtime would.</summary>
    private static CustomerState[] Build(int customers, DateTimeOffset now, Nudge.Engine.Definitions.DefinitionSet definitions)
    {
        var fold = new FoldSettings("CNY", _ => null, definitions.TrackersByEvent);
        var states = new CustomerState[customers];
        Parallel.For(0, customers, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, c =>
        {
            var state = new CustomerState($"c{c}");
            var position = 0L;
            foreach (var e in Shoppers.Events(1, 1 + (c % 9), now, seed: c))
            {
                var json = System.Text.Encoding.UTF8.GetString(e.Utf8Json.Span).Replace("\"userId\":\"c0\"", $"\"userId\":\"c{c}\"", StringComparison.Ordinal);
                CustomerFold.Apply(state, new StoredEvent(++position, e.MessageId, e.Type, e.Name, state.CustomerId, null, e.Timestamp, e.ReceivedAt, json), fold);
            }

            CustomerEvaluator.Evaluate(state, definitions, now, []);
            states[c] = state;
        });
        return states;
    }
}
