using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
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
/// Journeys under load, each figure beside a ceiling measured in the same run:
/// 1. Timers: customers waiting an hour in a journey; the hour passes (virtual time) and every timer
///    fires and sends its step. Ceiling: the same number of grain calls, in the timer pump's rounds,
///    to a grain that does nothing.
/// 2. Latency: events at a steady rate, each starting a journey whose first step sends; the time from
///    the event's arrival in the log to its message intent in the outbox. Ceiling: the same rate of
///    events, each batch followed at once by its intents, written by the benchmark itself (two durable
///    writes and nothing else).
/// </summary>
internal static class JourneyLoad
{
    private const string TimerJourney = """{"id":"timers","trigger":{"event":"Signed Up"},"steps":[{"id":"wait","wait":"1h"},{"id":"hello","send":{"channel":"inbox","template":"hello"}}]}""";
    private const string LatencyJourney = """{"id":"latency","trigger":{"event":"Product Added"},"reentry":"always","steps":[{"id":"nudge","send":{"channel":"inbox","template":"hello"}}]}""";

    public static async Task RunAsync(int customers, int rate, int seconds)
    {
        Console.WriteLine($"Journey load: {customers:N0} customers waiting; {rate:N0} events/s for {seconds} s; {Environment.ProcessorCount} cores");
        var (timersPerSecond, ceiling) = await TimersAsync(customers);
        var (p50, p99, floor50, floor99, achieved) = await LatencyAsync(rate, seconds);
        Console.WriteLine();
        Console.WriteLine("| measure | Nudge | ceiling in the same run | ratio |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine($"| due timers fired and sent, per second ({customers:N0} waiting) | {timersPerSecond:N0} | {ceiling:N0} no-op grain calls/s | {timersPerSecond / ceiling:P0} |");
        Console.WriteLine($"| event to intent at {achieved:N0} events/s, p50 | {p50:N0} ms | {floor50:N1} ms | |");
        Console.WriteLine($"| event to intent at {achieved:N0} events/s, p99 | {p99:N0} ms | {floor99:N1} ms | |");
    }

    private static async Task<(double TimersPerSecond, double Ceiling)> TimersAsync(int customers)
    {
        var directory = Directory.CreateTempSubdirectory("nudge-bench-journeys-").FullName;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var store = await StoreAsync(directory, TimerJourney);
        var events = Enumerable.Range(0, customers).Select(i => Event($"t{i}", $"c{i}", "Signed Up", "{}", time.GetUtcNow()));
        foreach (var chunk in events.Chunk(10_000)) await store.AppendAsync(chunk, TimeSpan.FromDays(1), CancellationToken.None);
        var last = await store.CountEventsAsync(CancellationToken.None);

        using var host = RuntimeHost(store, time);
        await host.StartAsync();
        var entering = Stopwatch.StartNew();
        await host.Services.GetRequiredService<LogDispatcher>().WaitForAsync(last, CancellationToken.None);
        Console.WriteLine($"  {customers:N0} customers entered and are waiting: {entering.Elapsed.TotalSeconds:0.0} s ({customers / entering.Elapsed.TotalSeconds:N0}/s)");

        var (gcPause, cpu, held) = (GC.GetTotalPauseDuration(), Process.GetCurrentProcess().TotalProcessorTime, store.WriterHeld);
        var clock = Stopwatch.StartNew();
        time.Advance(TimeSpan.FromHours(1));
        while (await CountMessagesAsync(store) < customers) await Task.Delay(20);
        var elapsed = clock.Elapsed;
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Console.WriteLine($"  {customers:N0} timers fired and sent in {elapsed.TotalSeconds:0.0} s: CPU {used / (elapsed * Environment.ProcessorCount):P0} of {Environment.ProcessorCount} cores, GC pauses {(GC.GetTotalPauseDuration() - gcPause) / elapsed:P0}, SQLite writer held {(store.WriterHeld - held) / elapsed:P0} of the time");
        await host.StopAsync();

        // The ceiling: the pump's rounds of grain calls, to grains that do nothing, already active.
        using var noop = RuntimeLoad.Host(b => b.UseOrleans(silo => silo.UseLocalhostClustering(siloPort: RuntimeLoad.FreePort(), gatewayPort: 0)));
        await noop.StartAsync();
        var grains = noop.Services.GetRequiredService<IGrainFactory>();
        var ids = Enumerable.Range(0, customers).Select(i => $"c{i}").Chunk(new RuntimeOptions().TimersPerRound).ToList();
        foreach (var round in ids) await Task.WhenAll(round.Select(id => grains.GetGrain<INoopGrain>(id).ApplyAsync(Array.Empty<StoredEvent>().AsImmutable())));
        var ceilingClock = Stopwatch.StartNew();
        foreach (var round in ids) await Task.WhenAll(round.Select(id => grains.GetGrain<INoopGrain>(id).ApplyAsync(Array.Empty<StoredEvent>().AsImmutable())));
        var ceiling = customers / ceilingClock.Elapsed.TotalSeconds;
        await noop.StopAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
        return (customers / elapsed.TotalSeconds, ceiling);
    }

    private static async Task<(double P50, double P99, double Floor50, double Floor99, double Achieved)> LatencyAsync(int rate, int seconds)
    {
        var directory = Directory.CreateTempSubdirectory("nudge-bench-latency-").FullName;
        await using var store = await StoreAsync(directory, LatencyJourney);
        using var host = RuntimeHost(store, TimeProvider.System);
        await host.StartAsync();
        var signal = host.Services.GetRequiredService<EventLogSignal>();
        // Warm up: every customer active once, so the measured phase is steady state.
        var customers = Math.Max(1000, rate);
        await OpenLoopAsync(rate, 2, customers, "w", async batch =>
        {
            await store.AppendAsync(batch, TimeSpan.FromDays(1), CancellationToken.None);
            signal.Committed();
        });
        await host.Services.GetRequiredService<LogDispatcher>().WaitForAsync(await store.CountEventsAsync(CancellationToken.None), CancellationToken.None);

        var before = await CountMessagesAsync(store);
        var (held, clock) = (store.WriterHeld, Stopwatch.StartNew());
        var sent = await OpenLoopAsync(rate, seconds, customers, "m", async batch =>
        {
            await store.AppendAsync(batch, TimeSpan.FromDays(1), CancellationToken.None);
            signal.Committed();
        });
        var expected = before + sent.Count;
        var deadline = Stopwatch.StartNew();
        while (await CountMessagesAsync(store) < expected && deadline.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(50);
        Console.WriteLine($"  latency: SQLite writer held {(store.WriterHeld - held) / clock.Elapsed:P0} of the time");
        var latencies = await LatenciesAsync(store, "m");
        await host.StopAsync();

        // The floor: the same appends, each event's intent written right after it by this loop.
        var floorStore = Path.Combine(directory, "floor");
        Directory.CreateDirectory(floorStore);
        await using var floor = await StoreAsync(floorStore, LatencyJourney);
        List<double> floorLatencies = [];
        await OpenLoopAsync(rate, seconds, customers, "f", async batch =>
        {
            await floor.AppendAsync(batch, TimeSpan.FromDays(1), CancellationToken.None);
            await floor.EnqueueMessagesAsync([.. batch.Select(e => new Nudge.Engine.Messaging.MessageIntent($"f:{e.MessageId}", e.UserId!, "inbox", "marketing", "hello"))],
                DateTimeOffset.UtcNow, CancellationToken.None);
            var done = DateTimeOffset.UtcNow;
            floorLatencies.AddRange(batch.Select(e => (done - e.ReceivedAt).TotalMilliseconds));
        });
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
        Console.WriteLine($"  latency: {latencies.Count:N0} of {sent.Count:N0} events reached their intent");
        return (Percentile(latencies, 0.5), Percentile(latencies, 0.99), Percentile(floorLatencies, 0.5), Percentile(floorLatencies, 0.99), sent.Count / (double)seconds);
    }

    /// <summary>Sends batches of events every 10 ms at the given rate, counted from when each batch was due, for the given seconds.</summary>
    private static async Task<List<IncomingEvent>> OpenLoopAsync(int rate, int seconds, int customers, string prefix, Func<IncomingEvent[], Task> send)
    {
        var perBatch = Math.Max(1, rate / 100);
        var batches = seconds * 100;
        List<IncomingEvent> sent = [];
        var clock = Stopwatch.StartNew();
        var n = 0;
        for (var b = 0; b < batches; b++)
        {
            var due = TimeSpan.FromMilliseconds(b * 10);
            if (clock.Elapsed < due) await Task.Delay(due - clock.Elapsed);
            // Arrival is when the batch was due: a late loop counts against the engine, not in its favour.
            var arrival = DateTimeOffset.UtcNow - (clock.Elapsed - due);
            var batch = new IncomingEvent[perBatch];
            for (var i = 0; i < perBatch; i++, n++)
                batch[i] = Event($"{prefix}{n}", $"c{n % customers}", "Product Added", $$"""{"product_id":"p1","price":10,"seq":"{{prefix}}{{n}}"}""", arrival);
            await send(batch);
            sent.AddRange(batch);
        }

        return sent;
    }

    private static async Task<List<double>> LatenciesAsync(SqliteStore store, string prefix)
    {
        // Intent creation time against the event's arrival, both on the wall clock, in milliseconds.
        List<double> latencies = [];
        long? before = null;
        while (true)
        {
            var page = await store.ListMessagesAsync(null, null, before, 5000, CancellationToken.None);
            if (page.Count == 0) break;
            before = page[^1].Id;
            foreach (var m in page)
            {
                if (m.Intent.DataJson is null || !m.Intent.Source.StartsWith("j:latency:", StringComparison.Ordinal)) continue;
                // The message's data is the triggering event's properties: its seq names the event.
                using var data = System.Text.Json.JsonDocument.Parse(m.Intent.DataJson);
                var seq = data.RootElement.GetProperty("seq").GetString()!;
                if (seq.StartsWith(prefix, StringComparison.Ordinal) && Received.TryGetValue(seq, out var at)) latencies.Add((m.CreatedAt - at).TotalMilliseconds);
            }
        }

        return latencies;
    }

    // When each event arrived, by its seq property (its message id).
    private static readonly Dictionary<string, DateTimeOffset> Received = new(StringComparer.Ordinal);

    private static IncomingEvent Event(string messageId, string user, string name, string properties, DateTimeOffset at)
    {
        if (name == "Product Added") Received[messageId] = at;

        var json = $$"""{"type":"track","userId":"{{user}}","event":"{{name}}","messageId":"{{messageId}}","properties":{{properties}}}""";
        return new IncomingEvent(messageId, EventType.Track, name, user, null, null, at, at, [], Encoding.UTF8.GetBytes(json));
    }

    private static async Task<long> CountMessagesAsync(INudgeStore store) =>
        (await store.CountMessagesByStatusAsync(CancellationToken.None)).Values.Sum();

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        values.Sort();
        return values[Math.Min(values.Count - 1, (int)Math.Ceiling(p * values.Count) - 1)];
    }

    private static async Task<SqliteStore> StoreAsync(string directory, string journey)
    {
        var store = new SqliteStore(Path.Combine(directory, "nudge.db"));
        await store.MigrateAsync(CancellationToken.None);
        await DefinitionsRegistry.SeedDefaultsAsync(store, CancellationToken.None);
        await store.ReplaceDefinitionsAsync(DefinitionsRegistry.SegmentKind,
            [.. BenchDefinitions.ExtraSegments().Select((s, i) => new StoredDefinition(DefinitionsRegistry.SegmentKind, s.Id, s.Json, 100 + i, DateTimeOffset.UtcNow))], [], false, CancellationToken.None);
        var id = journey.Contains("\"timers\"", StringComparison.Ordinal) ? "timers" : "latency";
        await store.SaveJourneyAsync(id, _ => journey, "bench", DateTimeOffset.UtcNow, CancellationToken.None);
        return store;
    }

    private static IHost RuntimeHost(INudgeStore store, TimeProvider time) => RuntimeLoad.Host(b =>
    {
        b.Services.AddSingleton(store);
        b.Services.AddSingleton(time);
        b.AddNudgeRuntime(new RuntimeOptions());
    });
}
