using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nudge.Engine.Events;
using Nudge.Runtime;
using Nudge.Runtime.Definitions;
using Nudge.Runtime.Dispatch;
using Nudge.Storage;
using Nudge.Storage.Sqlite;
using Orleans;
using Orleans.Concurrency;
using Orleans.Hosting;

namespace Nudge.Benchmarks;

/// <summary>
/// Event application through customer grains — fold, 20 segments, the default tags, stages and RFM,
/// and write-back with the checkpoint — beside the ceiling: the same grain calls, with the same
/// events grouped the same way, to a grain that does nothing. Then memory per active customer, and
/// what is left once the customers have gone idle.
/// </summary>
internal static class RuntimeLoad
{
    /// <summary>Events a customer makes in one visit in the session-shaped phase.</summary>
    private const int Session = 8;

    /// <summary>Events of the untimed warm-up.</summary>
    private const int WarmUpEvents = 100_000;

    public static async Task RunAsync(int customers, int events)
    {
        var directory = Directory.CreateTempSubdirectory("nudge-bench-runtime-").FullName;
        var now = DateTimeOffset.UtcNow;
        Console.WriteLine($"Runtime load: {customers:N0} customers, {events:N0} events per phase, 20 segments, {Environment.ProcessorCount} cores");
        await using var store = new SqliteStore(Path.Combine(directory, "nudge.db"));
        await store.MigrateAsync(CancellationToken.None);
        await DefinitionsRegistry.SeedDefaultsAsync(store, CancellationToken.None);
        await store.ReplaceDefinitionsAsync(DefinitionsRegistry.SegmentKind,
            [.. BenchDefinitions.ExtraSegments().Select((s, i) => new StoredDefinition(DefinitionsRegistry.SegmentKind, s.Id, s.Json, 100 + i, now))], [], false, CancellationToken.None);
        // A warm-up on customers of its own first: the phases then time the runtime's steady code, not the
        // JIT compiling it (a fresh process spends most of its first 100,000 events there).
        var warmedUp = await AppendAsync(store, Shoppers.Events(Math.Max(1, customers / 5), WarmUpEvents, now, seed: 9, prefix: "x", customerPrefix: "warm-up-"));

        var idleAfter = TimeSpan.FromSeconds(20);
        using var host = RuntimeHost(store, new RuntimeOptions { IdleAfter = idleAfter });
        var dispatcher = host.Services.GetRequiredService<LogDispatcher>();
        var management = host.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        var pause = await dispatcher.PauseAsync(CancellationToken.None);
        await host.StartAsync();
        pause.Dispose();
        await dispatcher.WaitForAsync(warmedUp, CancellationToken.None);
        pause = await dispatcher.PauseAsync(CancellationToken.None);

        var cold = await AppendAsync(store, Shoppers.Events(customers, events, now, seed: 1, prefix: "a"));
        var rounds = await RoundsAsync(store, warmedUp, events);
        // Memory per active customer: what the first phase's customers added, warm-up and ceiling rounds aside.
        var (baseline, baselineActivations) = (Memory(), await management.GetTotalActivationCount());
        var coldRate = await DispatchAsync(store, dispatcher, pause, cold, events);
        var active = Memory();
        var activations = await management.GetTotalActivationCount() - baselineActivations;
        pause = await dispatcher.PauseAsync(CancellationToken.None);
        var warm = await AppendAsync(store, Shoppers.Events(customers, events, now, seed: 2, prefix: "w"));
        var warmRate = await DispatchAsync(store, dispatcher, pause, warm, events);
        pause = await dispatcher.PauseAsync(CancellationToken.None);
        var sessions = await AppendAsync(store, Shoppers.Events(customers, events, now, seed: 3, prefix: "s", session: Session));
        var sessionRounds = await RoundsAsync(store, warm, events);
        var sessionRate = await DispatchAsync(store, dispatcher, pause, sessions, events);
        var ceiling = await CeilingAsync(rounds, events);
        var sessionCeiling = await CeilingAsync(sessionRounds, events);

        Console.WriteLine();
        Console.WriteLine("| phase | events/s | ratio to ceiling |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine($"| ceiling: no-op grain calls, same grouping | {ceiling.EventsPerSecond:N0} ({ceiling.CallsPerSecond:N0} calls/s) | 100% |");
        Console.WriteLine($"| customer grains, first events (activation, new state) | {coldRate:N0} | {coldRate / ceiling.EventsPerSecond:P0} |");
        Console.WriteLine($"| customer grains, active customers | {warmRate:N0} | {warmRate / ceiling.EventsPerSecond:P0} |");
        Console.WriteLine($"| ceiling, sessions of {Session} events | {sessionCeiling.EventsPerSecond:N0} ({sessionCeiling.CallsPerSecond:N0} calls/s) | 100% |");
        Console.WriteLine($"| customer grains, sessions of {Session} events | {sessionRate:N0} | {sessionRate / sessionCeiling.EventsPerSecond:P0} |");
        Console.WriteLine($"Events per grain call: {events / (double)rounds.Sum(r => r.Count):0.0} in the first phases, {events / (double)sessionRounds.Sum(r => r.Count):0.0} with sessions");
        rounds.Clear();
        sessionRounds.Clear();
        Console.WriteLine();
        Console.WriteLine($"Memory: {activations:N0} activations; managed heap grew {(active - baseline) / 1024.0 / 1024:N0} MB = {(active - baseline) / (double)activations:N0} bytes per active customer");

        // Idle customers are deactivated and cost nothing.
        var resident = Memory();
        await Task.Delay(idleAfter * 2.5);
        var idleActivations = await management.GetTotalActivationCount();
        var idle = Memory();
        Console.WriteLine($"After {idleAfter.TotalSeconds * 2.5:0} s idle: {idleActivations:N0} activations; {(resident - idle) / 1024.0 / 1024:N0} MB released");
        await host.StopAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    private static async Task<long> AppendAsync(INudgeStore store, IEnumerable<IncomingEvent> events)
    {
        foreach (var chunk in events.Chunk(10_000)) await store.AppendAsync(chunk, TimeSpan.FromDays(1), CancellationToken.None);
        return await store.CountEventsAsync(CancellationToken.None);
    }

    private static async Task<double> DispatchAsync(SqliteStore store, LogDispatcher dispatcher, IDisposable pause, long upTo, int events)
    {
        var (gcPause, cpu, held, allocated) = (GC.GetTotalPauseDuration(), Process.GetCurrentProcess().TotalProcessorTime, store.WriterHeld, GC.GetTotalAllocatedBytes());
        var gcs = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var clock = Stopwatch.StartNew();
        pause.Dispose();
        // When the grains have applied the last event, apart from when the write-back that follows has made it durable.
        var applied = Task.Run(async () =>
        {
            while (dispatcher.Applied < upTo) await Task.Delay(5);
            return clock.Elapsed;
        });
        await dispatcher.WaitForAsync(upTo, CancellationToken.None);
        var elapsed = clock.Elapsed;
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var appliedIn = await applied;
        Console.WriteLine($"  applied in {appliedIn.TotalSeconds:0.0} s ({events / appliedIn.TotalSeconds:N0} events/s), written back {(elapsed - appliedIn).TotalSeconds:0.0} s later");
        Console.WriteLine($"  {events:N0} events in {elapsed.TotalSeconds:0.0} s: CPU {used / (elapsed * Environment.ProcessorCount):P0} of {Environment.ProcessorCount} cores, GC pauses {(GC.GetTotalPauseDuration() - gcPause) / elapsed:P0} of the time, SQLite writer held {(store.WriterHeld - held) / elapsed:P0}");
        Console.WriteLine($"  {(GC.GetTotalAllocatedBytes() - allocated) / 1024.0 / events:N1} KB allocated per event; collections: {GC.CollectionCount(0) - gcs.Item1} gen0, {GC.CollectionCount(1) - gcs.Item2} gen1, {GC.CollectionCount(2) - gcs.Item3} gen2");
        return events / elapsed.TotalSeconds;
    }

    private static long Memory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>The dispatcher's rounds, read up front: per round, each customer's events.</summary>
    private static async Task<List<List<(string Customer, StoredEvent[] Events)>>> RoundsAsync(INudgeStore store, long after, int events)
    {
        List<List<(string, StoredEvent[])>> rounds = [];
        while (true)
        {
            var batch = await store.ReadLogForDispatchAsync(after, new RuntimeOptions().DispatchBatch, CancellationToken.None);
            if (batch.Count == 0) break;
            after = batch[^1].Event.Position;
            rounds.Add([.. batch.Where(o => o.Owner is not null).GroupBy(o => o.Owner!).Select(g => (g.Key, g.Select(o => o.Event).ToArray()))]);
        }

        return rounds;
    }

    private static async Task<(double EventsPerSecond, double CallsPerSecond)> CeilingAsync(List<List<(string Customer, StoredEvent[] Events)>> rounds, int events)
    {
        using var host = Host(b => b.UseOrleans(silo => silo.UseLocalhostClustering(siloPort: FreePort(), gatewayPort: 0)));
        await host.StartAsync();
        var grains = host.Services.GetRequiredService<IGrainFactory>();
        var before = Memory();
        // Activate first, as the runtime's active phase has its customers activated.
        foreach (var round in rounds) await Task.WhenAll(round.Select(c => grains.GetGrain<INoopGrain>(c.Customer).ApplyAsync(Array.Empty<StoredEvent>().AsImmutable())));
        var activations = await grains.GetGrain<IManagementGrain>(0).GetTotalActivationCount();
        Console.WriteLine($"Orleans alone: {(Memory() - before) / (double)activations:N0} bytes per activation of a grain without state");
        var clock = Stopwatch.StartNew();
        var calls = 0;
        foreach (var round in rounds)
        {
            await Task.WhenAll(round.Select(c => grains.GetGrain<INoopGrain>(c.Customer).ApplyAsync(c.Events.AsImmutable())));
            calls += round.Count;
        }

        var seconds = clock.Elapsed.TotalSeconds;
        await host.StopAsync();
        return (events / seconds, calls / seconds);
    }

    internal static IHost RuntimeHost(INudgeStore store, RuntimeOptions options) => Host(b =>
    {
        b.Services.AddSingleton(store);
        b.Services.AddSingleton(TimeProvider.System);
        b.AddNudgeRuntime(options);
    });

    /// <summary>A host with console logging at warnings only (shared by the load runs).</summary>
    internal static IHost Host(Action<HostApplicationBuilder> configure)
    {
        // No watcher on the working directory for appsettings.json: it would see every write to the store.
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Warning);
        configure(builder);
        return builder.Build();
    }

    internal static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }
}

/// <summary>The ceiling: a grain call carrying a customer's events that does nothing with them.</summary>
public interface INoopGrain : IGrainWithStringKey
{
    Task ApplyAsync(Immutable<StoredEvent[]> events);
}

public sealed class NoopGrain : Grain, INoopGrain
{
    public Task ApplyAsync(Immutable<StoredEvent[]> events) => Task.CompletedTask;
}
