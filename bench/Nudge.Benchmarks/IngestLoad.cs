using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nudge.Server;
using Nudge.Storage;

namespace Nudge.Benchmarks;

/// <summary>
/// Durable ingest over HTTP with 100-event batches: the most events/s each store acknowledges, and
/// p99 acknowledgement latency at a steady 20,000 events/s — beside the ceiling, the same server
/// parsing and discarding the same batches, measured in the same run.
/// </summary>
internal static class IngestLoad
{
    private const string WriteKey = "bench-write-key";
    private const int BatchSize = 100;

    public static async Task RunAsync(TimeSpan duration, int concurrency, int steadyRate, bool postgres)
    {
        Console.WriteLine($"Ingest load: {BatchSize}-event batches, {concurrency} connections, {duration.TotalSeconds:0} s per phase, {Environment.ProcessorCount} cores");
        List<(string Name, Result Max, Result Steady)> rows = [];
        rows.Add(("ceiling (parse + discard)", await PhaseAsync(new StoreOptions("sqlite", Temp()), discard: true), default));
        var sqlite = new StoreOptions("sqlite", Temp());
        rows.Add(("sqlite", await PhaseAsync(sqlite, false), await PhaseAsync(sqlite, false, steadyRate)));
        if (postgres)
        {
            var cluster = new Nudge.Storage.Tests.PostgresCluster();
            await cluster.InitializeAsync();
            try
            {
                await cluster.CreateDatabaseAsync("bench");
                var pg = new StoreOptions("postgres", Temp(), cluster.ConnectionString("bench"));
                rows.Add(("postgres", await PhaseAsync(pg, false), await PhaseAsync(pg, false, steadyRate)));
            }
            finally
            {
                await cluster.DisposeAsync();
            }
        }

        var ceiling = rows[0].Max.EventsPerSecond;
        Console.WriteLine();
        Console.WriteLine($"| store | events/s (max) | ratio to ceiling | p99 ack at max | p99 ack at {steadyRate:N0} ev/s | achieved ev/s |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (name, max, steady) in rows)
        {
            Console.WriteLine($"| {name} | {max.EventsPerSecond:N0} | {max.EventsPerSecond / ceiling:P0} | {max.P99:0.0} ms | " +
                (steady.Requests == 0 ? "- | - |" : $"{steady.P99:0.0} ms | {steady.EventsPerSecond:N0} |"));
        }

        async Task<Result> PhaseAsync(StoreOptions store, bool discard, int? rate = null)
        {
            var options = new NudgeOptions
            {
                Store = store, Urls = "http://127.0.0.1:0", WriteKey = WriteKey, AdminKey = "bench-admin-key",
                DiscardAfterParse = discard, Console = TextWriter.Null,
            };
            await using var app = await NudgeApp.BuildAsync(options, b => b.Logging.SetMinimumLevel(LogLevel.Warning));
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var result = await DriveAsync(new Uri(address), duration, concurrency, rate);
            Console.WriteLine($"  {(discard ? "ceiling" : store.Kind),-8} {(rate is null ? "max" : $"{rate:N0} ev/s"),-12} {result}");
            await app.StopAsync();
            return result;
        }
    }

    private static string Temp() => Directory.CreateTempSubdirectory("nudge-bench-").FullName;

    private static long _batchCounter;

    /// <summary>A batch with fresh message ids, so every event is new to the dedupe table.</summary>
    private static byte[] NextBatch()
    {
        var id = Interlocked.Increment(ref _batchCounter);
        var sb = new StringBuilder(32 * 1024);
        sb.Append("{\"sentAt\":\"2026-11-22T12:00:00Z\",\"batch\":[");
        for (var i = 0; i < BatchSize; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append("{\"type\":\"track\",\"messageId\":\"").Append(id).Append('-').Append(i)
              .Append("\",\"userId\":\"user-").Append((id * 31 + i) % 100_000)
              .Append("\",\"event\":\"Product Viewed\",\"timestamp\":\"2026-11-22T11:59:59Z\",\"properties\":{\"product_id\":\"p")
              .Append(i % 500).Append("\",\"category\":\"母婴\",\"price\":99.5,\"currency\":\"CNY\"},\"context\":{\"library\":{\"name\":\"analytics.js\"}}}");
        }

        return Encoding.UTF8.GetBytes(sb.Append("]}").ToString());
    }

    private static async Task<Result> DriveAsync(Uri address, TimeSpan duration, int concurrency, int? rate)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        var auth = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(WriteKey + ":")));
        var latencies = new List<double>[concurrency];
        long failures = 0;
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        // Open loop at a steady rate: request n is due at start + n / (rate / batch); latency counts from when it was due.
        var interval = rate is int r ? Stopwatch.Frequency * BatchSize / (double)r : 0;
        long next = -1;
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = [];
            while (true)
            {
                var due = Stopwatch.GetTimestamp();
                if (rate is not null)
                {
                    due = start + (long)(Interlocked.Increment(ref next) * interval);
                    var wait = due - Stopwatch.GetTimestamp();
                    if (wait > 0) await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency));
                }

                if (Stopwatch.GetTimestamp() >= end) return;
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/batch") { Content = new ByteArrayContent(NextBatch()) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Authorization = auth;
                using var response = await http.SendAsync(request);
                if (!response.IsSuccessStatusCode) Interlocked.Increment(ref failures);
                else mine.Add(Stopwatch.GetElapsedTime(due).TotalMilliseconds);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new Result(all.Length, Interlocked.Read(ref failures), all.Length * BatchSize / elapsed,
            all.Length == 0 ? 0 : all[all.Length / 2], all.Length == 0 ? 0 : all[(int)(all.Length * 0.99)]);
    }

    internal readonly record struct Result(int Requests, long Failures, double EventsPerSecond, double P50, double P99)
    {
        public override string ToString() => $"{EventsPerSecond,10:N0} events/s  p50 {P50,6:0.0} ms  p99 {P99,6:0.0} ms  ({Requests:N0} batches, {Failures} failed)";
    }
}
