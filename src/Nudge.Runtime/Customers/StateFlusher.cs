using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nudge.Runtime.Definitions;

namespace Nudge.Runtime.Customers;

/// <summary>
/// Loads definitions, journeys and the catalog facts before customers start, writes back state changed outside
/// dispatch rounds (API calls, timers) at least every <see cref="RuntimeOptions.FlushInterval"/>, and
/// flushes what is left on shutdown.
/// </summary>
public sealed partial class StateFlusher(StateWriter writer, DefinitionsRegistry definitions, Journeys.JourneyRegistry journeys, ProductFacts products, RuntimeOptions options, ILogger<StateFlusher> logger)
    : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await products.RefreshAsync(cancellationToken);
        await definitions.LoadAsync(cancellationToken);
        await journeys.StartAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.FlushInterval);
        var round = 0;
        while (await timer.WaitForNextTickAsync(stoppingToken).AsTask().ContinueWith(t => !t.IsCanceled && t.Result, TaskScheduler.Default))
        {
            try
            {
                if (writer.PendingCount > 0) await writer.FlushAsync(null, stoppingToken);
                // New products are picked up once a minute.
                if (++round % 60 == 0) await products.RefreshAsync(stoppingToken);
            }
#pragma warning disable CA1031 // Pending state stays queued and is retried next tick.
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
#pragma warning restore CA1031
            {
                LogFlushFailed(logger, e, writer.PendingCount);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await writer.FlushAsync(null, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing back {Pending} customer states failed; they stay queued and are retried")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception, int pending);
}
