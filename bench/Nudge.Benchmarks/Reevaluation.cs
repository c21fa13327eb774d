using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Nudge.Engine.Customers;
using Nudge.Engine.Events;
using Nudge.Engine.Segments;
using Nudge.Runtime;
using Nudge.Runtime.Definitions;
using Nudge.Runtime.Segments;
using Nudge.Storage;
using Nudge.Storage.Sqlite;

namespace Nudge.Benchmarks;

/// <summary>
/// Full re-evaluation of 20 segments over every customer stored in SQLite (read, decode, evaluate),
/// beside the ceiling: one pass evaluating the same segments over the same customers already in memory.
/// Then the sweep a definition change starts in a running engine, which also evaluates the tag rules,
/// stages and RFM, and sends the customers it touches through their grains.
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
            await store.SaveStatesAsync([.. chunk.Select(s => new CustomerStateWrite(s.CustomerId, s.Position, s.NextCheckAt, CustomerStateCodec.Encode(s), []))], [], null, now, CancellationToken.None);
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
        await SweepAsync(store, customers, ceiling, now);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>
    /// The product's own path: the sweep a definition change starts (DefinitionSweep in a running
    /// engine). The first change since start evaluates every definition for every customer; a description
    /// edit moves nobody, so none is activated. Later segment changes evaluate only the segments changed
    /// since; a new segment's members go through their grains.
    /// </summary>
    private static async Task SweepAsync(INudgeStore store, int customers, TimeSpan ceiling, DateTimeOffset built)
    {
        await DefinitionsRegistry.SeedDefaultsAsync(store, CancellationToken.None);
        await store.ReplaceDefinitionsAsync(DefinitionsRegistry.SegmentKind,
            [.. BenchDefinitions.ExtraSegments().Select((s, i) => new StoredDefinition(DefinitionsRegistry.SegmentKind, s.Id, s.Json, 100 + i, built))], [], false, CancellationToken.None);
        using var host = RuntimeLoad.RuntimeHost(store, new RuntimeOptions());
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<DefinitionsRegistry>();
        var sweep = host.Services.GetRequiredService<DefinitionSweep>();

        Console.WriteLine();
        Console.WriteLine("The sweep after a definition change, in a running engine:");
        Console.WriteLine();
        Console.WriteLine("| change | time | customers/s | through their grain | ratio to ceiling |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        var (extraId, extraJson) = BenchDefinitions.ExtraSegments().First();
        foreach (var (change, id, json) in new[]
        {
            ("first change since start (every definition): a description edit", extraId, extraJson.Replace("{\"id\"", "{\"description\":\"edited\",\"id\"", StringComparison.Ordinal)),
            ("a description edit (that segment only)", extraId, extraJson.Replace("{\"id\"", "{\"description\":\"edited again\",\"id\"", StringComparison.Ordinal)),
            ("a new segment: revenue over 2,000 (that segment only)", "over-2000", """{"id":"over-2000","when":{"stat":"revenue","gt":2000}}"""),
        })
        {
            await store.ReplaceDefinitionsAsync(DefinitionsRegistry.SegmentKind, [new StoredDefinition(DefinitionsRegistry.SegmentKind, id, json, 200, built)], [], false, CancellationToken.None);
            await registry.ReloadAsync(CancellationToken.None);
            var clock = Stopwatch.StartNew();
            sweep.Start(id);
            await sweep.WhenFinishedAsync();
            var elapsed = clock.Elapsed;
            var progress = sweep.Progress;
            if (!progress.Finished || progress.Done != customers || progress.Failed > 0) throw new InvalidOperationException($"The sweep did not finish cleanly: {progress}");
            Console.WriteLine($"| {change} | {elapsed.TotalSeconds:0.00} s | {customers / elapsed.TotalSeconds:N0} | {progress.Changed:N0} | {ceiling / elapsed:P0} |");
        }

        await host.StopAsync();
    }

    /// <summary>Customers with a few weeks of shopping each, folded and evaluated as the runtime would.</summary>
    private static CustomerState[] Build(int customers, DateTimeOffset now, Nudge.Engine.Definitions.DefinitionSet definitions)
    {
        var fold = new FoldSettings("CNY", _ => null, definitions.TrackersByEvent);
        var states = new CustomerState[customers];
        Parallel.For(0, customers, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, c =>
        {
            // As the runtime starts a customer: counting the events its definitions count.
            var state = new CustomerState($"c{c}") { TrackersSignature = definitions.TrackersSignature };
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
