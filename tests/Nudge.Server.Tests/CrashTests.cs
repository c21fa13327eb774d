using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Nudge.Storage.Sqlite;

namespace Nudge.Server.Tests;

public sealed class CrashTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nudge-crash-").FullName;

    [Fact]
    public async Task sigkill_during_load_loses_no_acknowledged_event()
    {
        var port = FreePort();
        using var server = StartServer(port);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        await WaitHealthyAsync(http, server);

        var acknowledged = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var senders = Enumerable.Range(0, 6).Select(s => Task.Run(async () =>
        {
            for (var batch = 0; !stop.IsCancellationRequested; batch++)
            {
                var ids = Enumerable.Range(0, 50).Select(i => $"s{s}-b{batch}-e{i}").ToArray();
                var body = "{\"batch\":[" + string.Join(',', ids.Select(id => $$"""{"type":"track","userId":"u{{s}}","event":"Product Viewed","messageId":"{{id}}"}""")) + "]}";
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/batch") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(TestServer.WriteKey + ":")));
                try
                {
                    using var response = await http.SendAsync(request);
                    if (response.StatusCode == HttpStatusCode.OK) foreach (var id in ids) acknowledged.Add(id);
                }
                catch (HttpRequestException)
                {
                    return; // the server is gone
                }
                catch (TaskCanceledException)
                {
                    return;
                }
            }
        })).ToArray();

        // Kill mid-load, once a fair number of batches have been acknowledged.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (acknowledged.Count < 5_000 && DateTime.UtcNow < deadline) await Task.Delay(20);
        server.Kill(); // SIGKILL: no shutdown hooks, no flush
        await server.WaitForExitAsync();
        stop.Cancel();
        await Task.WhenAll(senders);

        await using var store = new SqliteStore(Path.Combine(_directory, "nudge.db"));
        var stored = new HashSet<string>();
        for (long after = 0; ;)
        {
            var page = await store.ReadLogAsync(after, 10_000, CancellationToken.None);
            if (page.Count == 0) break;
            foreach (var e in page) stored.Add(e.MessageId);
            after = page[^1].Position;
        }

        Assert.True(acknowledged.Count >= 5_000, $"only {acknowledged.Count} events were acknowledged before the kill");
        var lost = acknowledged.Where(id => !stored.Contains(id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged events were lost, e.g. {lost.FirstOrDefault()}");

        // And the engine starts again on the same file.
        using var restarted = StartServer(port);
        await WaitHealthyAsync(http, restarted);
        restarted.Kill();
        await restarted.WaitForExitAsync();
    }

    [Fact]
    public async Task sigkill_mid_journey_continues_every_instance_and_sends_no_step_twice()
    {
        const int Customers = 60;
        await using var smtp = await Nudge.Channels.Tests.SmtpSink.StartAsync();
        var journeys = Directory.CreateDirectory(Path.Combine(_directory, "journeys"));
        Directory.CreateDirectory(Path.Combine(journeys.FullName, "templates"));
        File.WriteAllText(Path.Combine(journeys.FullName, "templates", "step.yaml"), "locales:\n  en:\n    subject: \"{{ data.step }}\"\n    text: step\n");
        File.WriteAllText(Path.Combine(journeys.FullName, "steps.yaml"), """
            id: steps
            trigger: {event: Signed Up}
            steps:
              - {id: first, send: {channel: email, template: step, topic: transactional}}
              - {id: pause-1, wait: 2s}
              - {id: second, send: {channel: email, template: step, topic: transactional}}
              - {id: pause-2, wait: 2s}
              - {id: third, send: {channel: email, template: step, topic: transactional}}
            """);
        var channels = Path.Combine(_directory, "channels.yaml");
        File.WriteAllText(channels, $"email:\n  host: 127.0.0.1\n  port: {smtp.Port}\n  from: \"Shop <shop@example.com>\"\n");
        string[] extra = ["--journeys", journeys.FullName, "--channels", channels];
        var sent = 0;

        var port = FreePort();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        using (var server = StartServer(port, extra))
        {
            await WaitHealthyAsync(http, server);
            var body = "{\"batch\":[" + string.Join(',', Enumerable.Range(0, Customers).SelectMany(i => new[]
            {
                $$"""{"type":"identify","userId":"c{{i}}","traits":{"email":"c{{i}}@example.com"},"messageId":"i{{i}}"}""",
                $$"""{"type":"track","userId":"c{{i}}","event":"Signed Up","messageId":"s{{i}}"}""",
            })) + "]}";
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/batch") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(TestServer.WriteKey + ":")));
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);
            // Kill once the first step is out for some and the instances are waiting.
            await smtp.WaitForAsync(Customers / 2);
            server.Kill();
            await server.WaitForExitAsync();
        }

        using (var restarted = StartServer(port, extra))
        {
            await WaitHealthyAsync(http, restarted);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            await using var store = new SqliteStore(Path.Combine(_directory, "nudge.db"));
            while (DateTime.UtcNow < deadline && (await store.ListMessagesAsync(null, null, null, 1000, CancellationToken.None)).Count(Settled) < Customers * 3)
                await Task.Delay(200);
            var messages = await store.ListMessagesAsync(null, null, null, 1000, CancellationToken.None);
            restarted.Kill();
            await restarted.WaitForExitAsync();

            // Every instance went on to its last step: each step has its message.
            Assert.Equal(Customers * 3, messages.Count);
            Assert.Equal(Customers * 3, messages.Select(m => m.Intent.IdempotencyKey).Distinct().Count());
            foreach (var i in Enumerable.Range(0, Customers))
                Assert.Equal(["first", "second", "third"], messages.Where(m => m.Intent.CustomerId == $"c{i}").Select(m => m.Intent.IdempotencyKey.Split(':')[^1]).Order());
            // A message cut off mid-send by the kill is set aside as interrupted (it may or may not have
            // arrived), never sent again blindly; every other one was sent.
            Assert.All(messages, m => Assert.True(Settled(m), $"{m.Intent.IdempotencyKey} is {m.Status}: {m.Reason}"));
            sent = messages.Count(m => m.Status == "sent");
        }

        // No step reached a customer twice, and every message recorded as sent arrived.
        var received = smtp.Messages().Select(m => m.Parse().MessageId).ToList();
        Assert.Equal(received.Count, received.Distinct().Count());
        Assert.True(received.Count >= sent, $"{sent} messages are recorded as sent but only {received.Count} arrived");
    }

    private static bool Settled(Nudge.Storage.MessageRecord m) =>
        m.Status == "sent" || (m.Status == "dead" && m.Reason?.StartsWith("interrupted", StringComparison.Ordinal) == true);

    private Process StartServer(int port, params string[] extra)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "nudge.dll"), "serve", "--data", _directory, "--urls", $"http://127.0.0.1:{port}" }.Concat(extra))
            info.ArgumentList.Add(arg);
        info.Environment["NUDGE_WRITE_KEY"] = TestServer.WriteKey;
        info.Environment["NUDGE_ADMIN_KEY"] = TestServer.AdminKey;
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitHealthyAsync(HttpClient http, Process server)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(server.HasExited, "nudge serve exited during start-up");
            try
            {
                if ((await http.GetAsync("/healthz")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("nudge serve did not become healthy within 60 s");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
