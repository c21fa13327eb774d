using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Nudge.Runtime.Customers;
using Nudge.Runtime.Definitions;
using Nudge.Runtime.Delivery;
using Nudge.Runtime.Dispatch;
using Nudge.Runtime.Journeys;
using Nudge.Runtime.Timers;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;

namespace Nudge.Runtime;

/// <summary>Hosts the customer runtime: an in-process Orleans silo, the dispatcher, timers and write-back.</summary>
public static class RuntimeHosting
{
    /// <summary>
    /// Adds a one-silo Orleans cluster on loopback (nothing to install) and the runtime services. The
    /// caller registers the <see cref="TimeProvider"/> and the store.
    /// </summary>
    public static IHostApplicationBuilder AddNudgeRuntime(this IHostApplicationBuilder builder, RuntimeOptions options)
    {
        // The silo first: hosted services start in order, so grains exist before anything calls them,
        // and stop in reverse, so the dispatcher and timers stop before the silo.
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: options.SiloPort == 0 ? FreeLoopbackPort() : options.SiloPort, gatewayPort: 0,
                serviceId: "nudge", clusterId: "nudge-local");
            silo.Configure<GrainCollectionOptions>(o =>
            {
                o.CollectionAge = options.IdleAfter;
                o.CollectionQuantum = options.IdleAfter < TimeSpan.FromMinutes(1) ? options.IdleAfter / 2 : TimeSpan.FromMinutes(1);
            });
        });

        // Virtual time is for the engine's own clock; Orleans' membership, messaging and activation
        // housekeeping keep real time, or a test that jumps 30 days would make the silo declare itself dead.
        foreach (var key in new[] { TimeProviderNames.Membership, TimeProviderNames.Messaging, TimeProviderNames.SystemTimers, TimeProviderNames.ActivationManagement, TimeProviderNames.GrainDirectory })
            builder.Services.AddKeyedSingleton(key, TimeProvider.System);

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton<StateWriter>();
        services.AddSingleton<CustomerGrains>();
        services.AddSingleton<ProductFacts>();
        services.AddSingleton<DefinitionsRegistry>();
        services.AddSingleton<EventLogSignal>();
        services.AddSingleton<CustomerEvents>();
        services.AddSingleton<DefinitionSweep>();
        services.AddSingleton<JourneyRegistry>();
        services.AddSingleton<CatalogSignal>();
        services.AddSingleton<JourneyEffects>();
        services.AddSingleton<IntentWriter>();
        services.AddSingleton<Quarantine>();
        services.AddSingleton<LogDispatcher>();
        services.AddSingleton<TimerPump>();
        services.AddHostedService<StateFlusher>();
        services.AddSingleton<RfmQuintilesJob>();
        services.AddHostedService(s => s.GetRequiredService<RfmQuintilesJob>());
        services.AddHostedService(s => s.GetRequiredService<TimerPump>());
        services.AddHostedService(s => s.GetRequiredService<LogDispatcher>());
        services.AddHostedService<ScheduledEntries>();
        services.AddHostedService<CatalogTriggers>();
        return builder;
    }

    /// <summary>
    /// Adds delivery: the outbox, the configured channels, templates, tracking keys and the worker.
    /// Call after <see cref="AddNudgeRuntime"/>.
    /// </summary>
    public static IHostApplicationBuilder AddNudgeDelivery(this IHostApplicationBuilder builder, DeliverySettings settings)
    {
        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<TrackingKeyring>();
        services.AddSingleton<TemplateRegistry>();
        services.AddSingleton<InboxChannel>();
        services.AddSingleton<ChannelSet>();
        services.AddSingleton<RecipientLoader>();
        services.AddSingleton<Outbox>();
        services.AddSingleton<Coupons>();
        services.AddSingleton<PopularProducts>();
        services.AddHostedService(s => s.GetRequiredService<PopularProducts>());
        services.AddHostedService<CouponRedemptions>();
        services.AddSingleton<DeliveryWorker>();
        services.AddHostedService<DeliveryStartup>();
        services.AddHostedService(s => s.GetRequiredService<DeliveryWorker>());
        return builder;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
