using System.Diagnostics;
using System.Globalization;
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
        Console.WriteLine($"Ingest load: {BatchSize}-event batches, {concurrency} connections, {duration.TotalSeconds:0} s per phase, {Environment.ProcessorCount} cores; " +
            (File.Exists(Wrk) ? "max load from wrk, steady load from an open-loop HttpClient" : "wrk not installed: all load from an in-process HttpClient"));
        List<(string Name, Result Steady, Result Max)> rows = [];
        var discard = new StoreOptions("sqlite", Temp());
        // Steady load first, on a fresh store; then the maximum.
        rows.Add(("ceiling (parse + discard)", await PhaseAsync(discard, discard: true, steadyRate), await PhaseAsync(discard, discard: true)));
        var sqlite = new StoreOptions("sqlite", Temp());
        rows.Add(("sqlite", await PhaseAsync(sqlite, false, steadyRate), await PhaseAsync(sqlite, false)));
        if (postgres)
        {
            var cluster = new Nudge.Storage.Tests.PostgresCluster { Durable = true };
            await cluster.InitializeAsync();
            try
            {
                await cluster.CreateDatabaseAsync("bench");
                var pg = new StoreOptions("postgres", Temp(), cluster.ConnectionString("bench"));
                rows.Add(("postgres", await PhaseAsync(pg, false, steadyRate), await PhaseAsync(pg, false)));
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
        foreach (var (name, steady, max) in rows)
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
            var result = rate is null && File.Exists(Wrk)
                ? await WrkAsync(new Uri(address), duration, concurrency)
                : await DriveAsync(new Uri(address), duration, concurrency, rate);
            Console.WriteLine($"  {(discard ? "ceiling" : store.Kind),-8} {(rate is null ? "max" : $"{rate:N0} ev/s"),-12} {result}");
            await app.StopAsync();
            return result;
        }
    }

    private const string Wrk = "/usr/bin/wrk";

    /// <summary>
    /// Maximum throughput from wrk in its own process (apt-get install wrk): a C load generator costs the
    /// shared 2 cores far less than an in-process HttpClient, so the figures describe the server.
    /// </summary>
    private static async Task<Result> WrkAsync(Uri address, TimeSpan duration, int concurrency)
    {
        var info = new ProcessStartInfo(Wrk) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-t2", $"-c{concurrency}", $"-d{duration.TotalSeconds:0}s", "--latency", "-s", Path.Combine(AppContext.BaseDirectory, "batch.lua"),
                     new Uri(address, "/v1/batch").ToString(), "--", Convert.ToBase64String(Encoding.UTF8.GetBytes(WriteKey + ":")) })
            info.ArgumentList.Add(arg);
        using var wrk = Process.Start(info)!;
        var output = await wrk.StandardOutput.ReadToEndAsync();
        await wrk.WaitForExitAsync();
        double Percentile(string p) => Milliseconds(Line(output, $"{p}%").Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        var perSecond = double.Parse(Line(output, "Requests/sec:").Split(':')[1], CultureInfo.InvariantCulture);
        var failures = Line(output, "non2xx=").Split(' ').Sum(kv => long.Parse(kv.Split('=')[1], CultureInfo.InvariantCulture));
        var requests = (int)(perSecond * duration.TotalSeconds);
        return new Result(requests, failures, perSecond * BatchSize, Percentile("50"), Percentile("99"));
    }

    private static string Line(string output, string start) =>
        output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(start, StringComparison.Ordinal))
        ?? throw new InvalidOperationException($"wrk printed no '{start}' line:\n{output}");

    private static double Milliseconds(string text) =>
        text.EndsWith("us", StringComparison.Ordinal) ? double.Parse(text[..^2], CultureInfo.InvariantCulture) / 1000
        : text.EndsWith("ms", StringComparison.Ordinal) ? double.Parse(text[..^2], CultureInfo.InvariantCulture)
        : double.Parse(text[..^1], CultureInfo.InvariantCulture) * 1000;

    private static string Temp() => Directory.CreateTempSubdirectory("nudge-bench-").FullName;

    private static long _batchCounter;
    private static readonly (byte[] Body, int[] IdOffsets) Template = BuildTemplate();
    private const int IdDigits = 12;

    /// <summary>
    /// A 100-event batch (~30 KB) with fresh message ids, so every event is new to the dedupe table.
    /// Built by stamping the batch number into a template: the load generator shares the 2 cores with
    /// the server, so it must cost as little as possible.
    /// </summary>
    private static byte[] NextBatch()
    {
        var id = Interlocked.Increment(ref _batchCounter);
        var body = (byte[])Template.Body.Clone();
        Span<byte> digits = stackalloc byte[IdDigits];
        for (var i = IdDigits - 1; i >= 0; i--, id /= 10) digits[i] = (byte)('0' + (id % 10));
        foreach (var offset in Template.IdOffsets) digits.CopyTo(body.AsSpan(offset));
        return body;
    }

    private static (byte[], int[]) BuildTemplate()
    {
        var placeholder = new string('#', IdDigits);
        var sb = new StringBuilder(32 * 1024);
        sb.Append("{\"sentAt\":\"2026-11-22T12:00:00Z\",\"batch\":[");
        for (var i = 0; i < BatchSize; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append("{\"type\":\"track\",\"messageId\":\"").Append(placeholder).Append('-').Append(i.ToString("D3", CultureInfo.InvariantCulture))
              .Append("\",\"userId\":\"user-").Append(placeholder).Append('-').Append(i % 10)
              .Append("\",\"event\":\"Product Viewed\",\"timestamp\":\"2026-11-22T11:59:59Z\",\"properties\":{\"product_id\":\"p")
              .Append(i % 500).Append("\",\"category\":\"母婴\",\"price\":99.5,\"currency\":\"CNY\"},\"context\":{\"library\":{\"name\":\"analytics.js\"}}}");
        }

        var body = Encoding.UTF8.GetBytes(sb.Append("]}").ToString());
        var marker = Encoding.UTF8.GetBytes(placeholder);
        List<int> offsets = [];
        for (var at = body.AsSpan().IndexOf(marker); at >= 0;)
        {
            offsets.Add(at);
            var next = body.AsSpan(at + IdDigits).IndexOf(marker);
            at = next < 0 ? -1 : at + IdDigits + next;
        }

        return (body, [.. offsets]);
    }

    private static async Task<Result> DriveAsync(Uri address, TimeSpan duration, int concurrency, int? rate)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        var auth = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(WriteKey + ":")));
        var latencies = new List<double>[concurrency];
        long failures = 0;
        var start = Stopwatch.GetTimestamp();
        // The first second warms up (connections, JIT, thread pool) and is not measured.
        var measuredFrom = start + Stopwatch.Frequency;
        var end = measuredFrom + (long)(duration.TotalSeconds * Stopwatch.Frequency);
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
                else if (due >= measuredFrom) mine.Add(Stopwatch.GetElapsedTime(due).TotalMilliseconds);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(measuredFrom).TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new Result(all.Length, Interlocked.Read(ref failures), all.Length * BatchSize / elapsed,
            all.Length == 0 ? 0 : all[all.Length / 2], all.Length == 0 ? 0 : all[(int)(all.Length * 0.99)]);
    }

    internal readonly record struct Result(int Requests, long Failures, double EventsPerSecond, double P50, double P99)
    {
        public override string ToString() => $"{EventsPerSecond,10:N0} events/s  p50 {P50,6:0.0} ms  p99 {P99,6:0.0} ms  ({Requests:N0} batches, {Failures} failed)";
    }
}
