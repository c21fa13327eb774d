using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Nudge.Server;
using Nudge.Storage;

namespace Nudge.Server.Tests;

/// <summary>The real engine on a loopback port with a fresh SQLite file, and clients holding its keys.</summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string WriteKey = "test-write-key";
    public const string AdminKey = "test-admin-key";

    private readonly WebApplication _app;
    private readonly string _directory;
    private readonly Func<NudgeOptions, NudgeOptions>? _configure;
    private bool _keepDirectory;

    private TestServer(WebApplication app, string directory, FakeTimeProvider time, ConcurrentQueue<string> logs, Func<NudgeOptions, NudgeOptions>? configure)
    {
        _configure = configure;
        _app = app;
        _directory = directory;
        Time = time;
        Logs = logs;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Http { get; }

    public FakeTimeProvider Time { get; }

    public ConcurrentQueue<string> Logs { get; }

    public INudgeStore Store => _app.Services.GetRequiredService<INudgeStore>();

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a server on a fresh folder; <paramref name="build"/> may change its services (a store that fails on cue).</summary>
    public static Task<TestServer> StartAsync(Func<NudgeOptions, NudgeOptions>? configure = null, Action<WebApplicationBuilder>? build = null) =>
        StartAsync(Directory.CreateTempSubdirectory("nudge-server-").FullName, new FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero)), configure, build);

    /// <summary>Stops this server and starts a new one on the same data and clock, as after a restart.</summary>
    public async Task<TestServer> RestartAsync()
    {
        _keepDirectory = true;
        await DisposeAsync();
        return await StartAsync(_directory, Time, _configure);
    }

    /// <summary>Waits until the customer runtime has applied and written back every event in the log.</summary>
    public async Task DispatchedAsync()
    {
        var last = await Store.CountEventsAsync(CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _app.Services.GetRequiredService<Nudge.Runtime.Dispatch.LogDispatcher>().WaitForAsync(last, timeout.Token);
    }

    /// <summary>The JSON body of a response that must have succeeded (the failure names the status and body).</summary>
    public static async Task<System.Text.Json.JsonElement> OkJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Xunit.Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return System.Text.Json.JsonDocument.Parse(text).RootElement;
    }

    public Task<HttpResponseMessage> AdminAsync(HttpMethod method, string path, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return Http.SendAsync(request);
    }

    private static async Task<TestServer> StartAsync(string directory, FakeTimeProvider time, Func<NudgeOptions, NudgeOptions>? configure, Action<WebApplicationBuilder>? build = null)
    {
        var options = new NudgeOptions
        {
            Store = new StoreOptions("sqlite", directory),
            Urls = "http://127.0.0.1:0",
            WriteKey = WriteKey,
            AdminKey = AdminKey,
            Time = time,
            Console = TextWriter.Null,
        };
        options = configure?.Invoke(options) ?? options;
        options = options with { Runtime = options.Runtime with { FlushInterval = TimeSpan.FromMilliseconds(50), DispatchPoll = TimeSpan.FromMilliseconds(20) } };
        var logs = new ConcurrentQueue<string>();
        var app = await NudgeApp.BuildAsync(options, b =>
        {
            b.Logging.AddProvider(new ListLoggerProvider(logs));
            build?.Invoke(b);
        });
        try
        {
            await app.StartAsync();
        }
        catch
        {
            // A start that fails (an invalid definitions file) must not leave a silo running in the test process.
            await app.StopAsync();
            await app.DisposeAsync();
            throw;
        }

        return new TestServer(app, directory, time, logs, configure);
    }

    public Task<HttpResponseMessage> PostAsync(string path, string json, string? writeKey = WriteKey, bool colon = true)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (writeKey is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(writeKey + (colon ? ":" : ""))));
        return Http.SendAsync(request);
    }

    public Task<HttpResponseMessage> AdminGetAsync(string path, string? key = AdminKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return Http.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (!_keepDirectory) Directory.Delete(_directory, recursive: true);
    }

    private sealed class ListLoggerProvider(ConcurrentQueue<string> logs) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new ListLogger(logs);

        public void Dispose()
        {
        }
    }

    private sealed class ListLogger(ConcurrentQueue<string> logs) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs.Enqueue(formatter(state, exception));
    }
}
