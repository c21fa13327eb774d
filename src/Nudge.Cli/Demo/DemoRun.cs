using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nudge.Channels.Bots;
using Nudge.Channels.Email;
using Nudge.Channels.Sms;
using Nudge.Engine.Messaging;
using Nudge.Runtime;
using Nudge.Runtime.Customers;
using Nudge.Runtime.Definitions;
using Nudge.Runtime.Delivery;
using Nudge.Runtime.Dispatch;
using Nudge.Runtime.Journeys;
using Nudge.Server;
using Nudge.Storage;

namespace Nudge.Cli.Demo;

/// <summary>What <c>nudge demo</c> was asked for.</summary>
/// <param name="Customers">Simulated customers.</param>
/// <param name="Days">Simulated days.</param>
/// <param name="Seed">The seed every random choice comes from.</param>
/// <param name="DataDirectory">Where the fresh embedded store goes.</param>
/// <param name="Urls">The address the engine listens on (port 0: any free port).</param>
/// <param name="Until">The simulated days end at midnight (UTC) of this date.</param>
internal sealed record DemoSettings(int Customers, int Days, int Seed, string DataDirectory, string Urls, DateOnly Until)
{
    public DateTimeOffset End => new(Until.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    public DateTimeOffset Start => End.AddDays(-Days);
}

/// <summary>How far a run is: preparing (<paramref name="Preparing"/> says what), or playing the days.</summary>
internal sealed record DemoProgress(int Hour, int Hours, DateTimeOffset At, long Events, long Messages, TimeSpan Elapsed, string? Preparing = null);

/// <summary>
/// A living shop on the real engine: the engine runs with its real ingestion, customer runtime,
/// journeys and delivery on a fresh SQLite store, on a virtual clock the demo moves an hour at a
/// time. Each simulated hour, customers' events go in through the HTTP ingestion API, the engine
/// catches up, and what it delivered (to the mail catcher, the stand-in providers and the inbox)
/// is read by the customers it reached, who may open, click, buy or unsubscribe.
/// </summary>
internal sealed partial class DemoRun : IAsyncDisposable
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private const int EventsPerBatch = 400;

    private readonly DemoSettings _settings;
    private readonly DemoClock _clock;
    private readonly WebApplication _app;
    private readonly ProviderSink _sink;
    private readonly HttpClient _http;
    private readonly DemoShop _shop;
    private readonly List<Shopper> _shoppers;
    private readonly Dictionary<string, Shopper> _byAddress;
    private readonly Dictionary<string, Shopper> _byId;
    private readonly Agenda _agenda = new();
    private readonly Behaviour _behaviour;
    private readonly CancellationTokenSource _stop = new();
    private long _events;

    private DemoRun(DemoSettings settings, DemoClock clock, WebApplication app, ProviderSink sink, string writeKey, string adminKey, string url)
    {
        (_settings, _clock, _app, _sink) = (settings, clock, app, sink);
        WriteKey = writeKey;
        AdminKey = adminKey;
        Url = url;
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2) };
        _shop = new DemoShop(settings.Seed);
        _shoppers = [.. Enumerable.Range(0, settings.Customers).Select(i => new Shopper(settings.Seed, i, settings.Start, settings.Days, _shop))];
        _byAddress = new(StringComparer.Ordinal);
        _byId = _shoppers.ToDictionary(s => s.Id, StringComparer.Ordinal);
        foreach (var s in _shoppers)
        {
            if (s.Email is not null) _byAddress[s.Email] = s;
            if (s.Phone is not null) _byAddress[s.Phone] = s;
        }

        _behaviour = new Behaviour(_shop, _agenda) { BestCoupon = BestCouponAsync };
    }

    public string WriteKey { get; }

    public string AdminKey { get; }

    public string Url { get; }

    public IServiceProvider Services => _app.Services;

    public INudgeStore Store => Services.GetRequiredService<INudgeStore>();

    public MailCatcher Mail => Services.GetRequiredService<MailCatcher>();

    public ProviderSink Providers => _sink;

    public IReadOnlyList<Shopper> Shoppers => _shoppers;

    /// <summary>Creates the store, installs the library and starts the engine and the stand-in providers.</summary>
    public static async Task<DemoRun> StartAsync(DemoSettings settings, CancellationToken cancellationToken)
    {
        if (File.Exists(Path.Combine(settings.DataDirectory, StoreOptions.SqliteFileName)))
            throw new InvalidOperationException($"{Path.GetFullPath(settings.DataDirectory)} already holds a Nudge store. The demo starts from nothing: delete the folder or choose another with --data.");
        Directory.CreateDirectory(settings.DataDirectory);
        var journeys = Path.Combine(settings.DataDirectory, "journeys");
        DemoLibrary.Install(DemoLibrary.Find(), journeys, settings.Start, settings.Days);

        var sink = await ProviderSink.StartAsync(cancellationToken);
        var urls = settings.Urls.EndsWith(":0", StringComparison.Ordinal) ? settings.Urls[..^1] + FreePort() : settings.Urls;
        var clock = new DemoClock(settings.Start);
        var (writeKey, adminKey) = ($"nudge_write_{RandomNumberGenerator.GetHexString(32, true)}", $"nudge_admin_{RandomNumberGenerator.GetHexString(32, true)}");
        var options = new NudgeOptions
        {
            // A demo store is rebuilt by running again: commits need not wait for the disk.
            Store = new StoreOptions("sqlite", settings.DataDirectory) { Durable = false },
            Urls = urls,
            Time = clock,
            CatchMail = true,
            WriteKey = writeKey,
            AdminKey = adminKey,
            Console = TextWriter.Null,
            Runtime = new RuntimeOptions
            {
                JourneysDirectory = journeys,
                // Looks for work happen in real time; keep them brisk so a simulated hour is not spent waiting.
                DispatchPoll = TimeSpan.FromMilliseconds(100),
                FlushInterval = TimeSpan.FromMilliseconds(100),
                // The demo recomputes the RFM cut points (and popular products, below) itself at each
                // simulated midnight, between hours: when they change never depends on the wall clock.
                RfmQuintilesInterval = TimeSpan.FromDays(3650),
            },
            Delivery = new DeliverySettings
            {
                PublicUrl = urls,
                Sms = new SmsSettings { Format = "generic", Url = $"{sink.Url}/sms", Sender = "小店" },
                WeCom = new BotSettings($"{sink.Url}/wecom"),
                DingTalk = new BotSettings($"{sink.Url}/dingtalk"),
                Poll = TimeSpan.FromMilliseconds(100),
                PopularRefresh = Timeout.InfiniteTimeSpan,
                Policy = new PolicySettings
                {
                    DefaultTimeZone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai"),
                    Fallback = [ChannelNames.Email, ChannelNames.Sms, ChannelNames.Inbox, ChannelNames.WeCom, ChannelNames.DingTalk],
                },
            },
        };
        WebApplication? app = null;
        try
        {
            // Only errors reach the console: the progress bar and the report are the demo's output.
            // (Orleans' watchdog takes the jumps of virtual time for stalls and says so as warnings.)
            app = await NudgeApp.BuildAsync(options, b => b.Logging.SetMinimumLevel(LogLevel.Error).AddFilter("Orleans", LogLevel.Error), cancellationToken);
            await app.StartAsync(cancellationToken);
            return new DemoRun(settings, clock, app, sink, writeKey, adminKey, urls);
        }
        catch
        {
            try
            {
                // Stopped before it is disposed: the services it did start end as stopped, not as failed.
                if (app is not null) await app.StopAsync(CancellationToken.None);
            }
            finally
            {
                if (app is not null) await app.DisposeAsync();
                await sink.DisposeAsync();
            }

            throw;
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Runs every simulated hour; <paramref name="progress"/> hears after each.</summary>
    public async Task RunAsync(Action<DemoProgress> progress, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var hours = _settings.Days * 24;
        // Delivery's own loop is held for the whole run: the demo runs its rounds itself once the
        // engine has caught up with each step, so what it sends (and what caps allow) never depends on
        // which part of the engine happened to be faster.
        using var delivery = await Services.GetRequiredService<DeliveryWorker>().PauseAsync(cancellationToken);
        progress(new DemoProgress(0, hours, _settings.Start, 0, 0, started.Elapsed, $"Writing the catalog: {_shop.Products.Count} products"));
        await WriteCatalogAsync(_shop.Products.Select(p => p.Product), cancellationToken);
        await BackfillAsync(done => progress(new DemoProgress(0, hours, _settings.Start, Interlocked.Read(ref _events), 0, started.Elapsed,
            $"Loading the shop's history: {done:N0} of {_shoppers.Count(s => !s.NewInRun):N0} customers")), cancellationToken);
        foreach (var s in _shoppers)
            _agenda.Plan(s.NewInRun ? new SignUp(s.SignedUpAt, s) : new Visit(s.NextVisit(_settings.Start), s));

        var dispatcher = Services.GetRequiredService<LogDispatcher>();
        DateTimeOffset until;
        for (var from = _settings.Start; from < _settings.End; from = until)
        {
            cancellationToken.ThrowIfCancellationRequested();
            until = StepEnd(from);
            // The shop updates its catalog every morning at 10:00 China time; the price drops and
            // restocks reach interested customers before the clock moves on.
            if (until.Hour == 2)
            {
                await WriteCatalogAsync(_shop.ChangesForDay(), cancellationToken);
                while (!await CatalogHandledAsync(cancellationToken)) await Task.Delay(5, cancellationToken);
            }

            // The hour's events are applied together once it is over, as the engine would after a
            // busy hour: dispatching each open and click on its own would cost far more than the hour.
            using (await dispatcher.PauseAsync(cancellationToken))
            {
                _clock.MoveTo(until);
                await ActAsync(_agenda.TakeUntil(until), cancellationToken);
            }

            _clock.FireTimers();
            await CatchUpAsync(until, cancellationToken);
            await ReadDeliveriesAsync(until, cancellationToken);
            if (until.Hour == 0) await RecountAsync(cancellationToken);
            progress(new DemoProgress((int)(until - _settings.Start).TotalHours, hours, until, Interlocked.Read(ref _events), Sent(), started.Elapsed));
        }
    }

    /// <summary>The nightly recounts: the RFM quintile cut points, and the popular products recommendation blocks show.</summary>
    private async Task RecountAsync(CancellationToken cancellationToken)
    {
        await Services.GetRequiredService<RfmQuintilesJob>().RecomputeAsync(cancellationToken);
        await Services.GetRequiredService<PopularProducts>().RefreshAsync(cancellationToken);
    }

    /// <summary>
    /// Where a step that starts at <paramref name="from"/> ends: an hour later by day, and the night
    /// (22:00 to 08:00 China time, when quiet hours hold marketing back and few people shop) in one.
    /// </summary>
    private DateTimeOffset StepEnd(DateTimeOffset from)
    {
        var hour = from + Hour;
        if (from.Hour is >= NightStartUtc) hour = new DateTimeOffset(from.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
        return hour < _settings.End ? hour : _settings.End;
    }

    // 22:00 in China (UTC+8).
    private const int NightStartUtc = 14;

    /// <summary>After the run: virtual time catches up with the wall clock and follows it, until cancelled.</summary>
    public async Task FollowWallClockAsync(CancellationToken cancellationToken)
    {
        // Ctrl+C reaches the engine's host first (it stops), so its stopping ends this too.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
        do
        {
            _clock.MoveTo(DateTimeOffset.UtcNow);
            _clock.FireTimers();
        }
        while (await tick.WaitForNextTickAsync(stop.Token));
    }

    private long Sent() => Mail.Received + _sink.Counts.Values.Sum() + _inboxDelivered;

    /// <summary>Puts products through the products API, as a shop's catalog sync would.</summary>
    private async Task WriteCatalogAsync(IEnumerable<Nudge.Engine.Catalog.Product> products, CancellationToken cancellationToken)
    {
        foreach (var product in products)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/products/{product.ProductId}")
            {
                Content = new StringContent(JsonSerializer.Serialize(product, DemoJson.Default.Product), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
            using var response = await _http.SendAsync(request, cancellationToken);
            await EnsureAsync(response, $"writing product {product.ProductId}");
        }
    }

    /// <summary>Hands events to the engine through the Segment-compatible batch API, in order.</summary>
    private async Task PostAsync(List<JsonObject> events, CancellationToken cancellationToken)
    {
        foreach (var chunk in events.Chunk(EventsPerBatch))
        {
            var body = new JsonObject { ["batch"] = new JsonArray([.. chunk]) };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/batch") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(WriteKey + ":")));
            using var response = await _http.SendAsync(request, cancellationToken);
            await EnsureAsync(response, "sending events");
            Interlocked.Add(ref _events, chunk.Length);
        }

        events.Clear();
    }

    private static async Task EnsureAsync(HttpResponseMessage response, string what)
    {
        if (response.IsSuccessStatusCode || (int)response.StatusCode is 302 or 303) return;
        throw new InvalidOperationException($"The engine refused {what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _sink.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _stop.Dispose();
    }
}
