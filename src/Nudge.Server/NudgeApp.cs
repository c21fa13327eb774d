using Microsoft.Extensions.Compliance.Classification;
using Nudge.Engine.Events;
using Nudge.Server.Api;
using Nudge.Server.Auth;
using Nudge.Server.Ingestion;
using Nudge.Runtime;
using Nudge.Server.Operations;
using Nudge.Server.Tracking;
using Nudge.Storage;
using OpenTelemetry.Metrics;
using Scalar.AspNetCore;

namespace Nudge.Server;

/// <summary>Builds the engine's web host: the store, ingestion, the management API, health and metrics.</summary>
public static partial class NudgeApp
{
    /// <summary>
    /// A slim web host builder that does not watch its working directory for appsettings.json changes.
    /// Nudge takes no settings from there, and that watcher covers the directory and everything below
    /// it: with a store kept there, it was woken by every write to the database (a sixth of the demo's
    /// CPU time).
    /// </summary>
    public static WebApplicationBuilder CreateBuilder() =>
        WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });

    /// <summary>Opens and migrates the store, ensures the keys, and returns the app ready to run.</summary>
    /// <param name="options">What <c>nudge serve</c> was told.</param>
    /// <param name="configure">Extra host configuration (tests add log capture here).</param>
    /// <param name="cancellationToken">Cancels start-up.</param>
    public static async Task<WebApplication> BuildAsync(NudgeOptions options, Action<WebApplicationBuilder>? configure = null, CancellationToken cancellationToken = default)
    {
        var builder = CreateBuilder();
        builder.WebHost.UseUrls(options.Urls);
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o => { o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; o.UseUtcTimestamp = true; });
        builder.Logging.EnableRedaction();
        // ASP.NET Core's request lines carry paths such as /api/customers/{id}: keep them out of the log.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // The in-process silo reports its options and membership at start: dozens of lines a shop does not need.
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Services.AddRedaction(r => r.SetRedactor<HashPrefixRedactor>(new DataClassificationSet(NudgeData.Personal)));

        var store = options.Store.Open();
        foreach (var applied in await store.MigrateAsync(cancellationToken))
            await options.Console.WriteLineAsync($"Applied migration {applied}");
        var keys = new ApiKeys();
        await keys.InitializeAsync(store, options.WriteKey, options.AdminKey, options.Time, options.Console, cancellationToken);

        var services = builder.Services;
        var catcher = options.CatchMail ? new Nudge.Channels.Email.MailCatcher(keep: MailCatching.Keep, time: options.Time) : null;
        if (catcher is not null)
        {
            options = options with { Delivery = options.Delivery with { Email = MailCatching.Smtp(catcher, options.Delivery.Email) } };
            services.AddSingleton(catcher);
        }

        services.AddSingleton(options);
        services.AddSingleton<TimeProvider>(options.Time);
        services.AddSingleton(store);
        builder.AddNudgeRuntime(options.Runtime);
        builder.AddNudgeDelivery(options.Delivery);
        services.AddSingleton(keys);
        services.AddSingleton(new SegmentParser(options.Limits));
        services.AddSingleton<IngestQueue>();
        services.AddSingleton<IngestMetrics>();
        services.AddSingleton<IngestHandler>();
        services.AddSingleton<DefinitionChanges>();
        services.AddHostedService<IngestWriter>();
        services.AddHostedService<DedupePruner>();
        // A query parameter that does not bind ("?limit=abc") answers 400 with a problem body naming it.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            if (c.Exception is BadHttpRequestException bad) c.ProblemDetails.Detail = bad.Message;
        });
        // Browser SDKs (analytics.js, RudderStack JS) post from the shop's own origin. The write key is
        // public by design, so any origin may send; the management API stays same-origin.
        services.AddCors(o => o.AddPolicy(IngestApi.CorsPolicy, p => p.AllowAnyOrigin().AllowAnyHeader().WithMethods("POST").SetPreflightMaxAge(TimeSpan.FromDays(1))));
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, NudgeJson.Default));
        services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Nudge API";
            doc.Info.Description = "Segment-compatible ingestion (/v1, write key) and the management API (/api, admin key as Bearer token).";
            return Task.CompletedTask;
        }));
        services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(IngestMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            .AddPrometheusExporter());
        configure?.Invoke(builder);

        var app = builder.Build();
        // Start listening to the meters before the first request, so no early measurement is lost.
        app.Services.GetRequiredService<MeterProvider>();
        app.Services.GetRequiredService<IngestMetrics>();
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : 500,
            SuppressDiagnosticsCallback = c => c.Exception is BadHttpRequestException, // a client mistake, not a server error
        });
        app.UseCors();
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/api"), api => api.UseMiddleware<AdminAuth>());
        app.MapIngestApi();
        app.MapGroup("/api").MapCustomersApi().MapProductsApi().MapSegmentsApi().MapDefinitionsApi()
            .MapMessagesApi().MapTemplatesApi().MapConsentApi().MapCouponsApi().MapJourneysApi().MapMailApi().MapQuarantineApi();
        app.MapTracking();
        app.MapInbox();
        app.MapSmsCallbacks();
        app.MapGet("/healthz", HealthAsync).WithTags("Operations").WithSummary("Liveness and storage reachability");
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapOpenApi();
        app.MapScalarApiReference("/docs", o => o.WithTitle("Nudge API"));
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            catcher?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        });
        return app;
    }

    private static async Task<IResult> HealthAsync(INudgeStore store, IngestQueue queue, ILoggerFactory logs, CancellationToken cancellationToken)
    {
        try
        {
            await store.CountEventsAsync(cancellationToken);
            return Results.Ok(new { status = "healthy", store = store.Provider, queuedEvents = queue.QueuedEvents });
        }
#pragma warning disable CA1031 // Any storage failure means unhealthy; the answer says so instead of throwing.
        catch (Exception e)
#pragma warning restore CA1031
        {
            // The cause goes to the log, not to an unauthenticated caller.
            LogStoreUnreachable(logs.CreateLogger("Nudge.Health"), e);
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "Unhealthy.", $"The {store.Provider} store is unreachable; the server log has the cause.");
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Health check: the store is unreachable")]
    private static partial void LogStoreUnreachable(ILogger logger, Exception exception);
}
