using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nudge.Engine.Customers;
using Nudge.Engine.Rfm;
using Nudge.Storage;

namespace Nudge.Runtime.Definitions;

/// <summary>
/// Recomputes the RFM quintile cut points from every stored customer with orders, at start when they
/// are older than the interval and then on that schedule. Customers are rescored against the new cut
/// points as their stats change, and as days pass.
/// </summary>
public sealed partial class RfmQuintilesJob(INudgeStore store, DefinitionsRegistry definitions, TimeProvider time, RuntimeOptions options, ILogger<RfmQuintilesJob> logger)
    : BackgroundService
{
    /// <summary>Computes the cut points now, stores them and makes them current.</summary>
    public async Task<RfmQuintiles> RecomputeAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        List<(double, double, double)> customers = [];
        await foreach (var bytes in store.ScanStatesAsync(cancellationToken))
        {
            var orders = CustomerStateCodec.Decode(bytes, StateParts.Orders).Stats.Orders;
            if (orders is { Count: > 0, LastAt: { } last }) customers.Add(((now - last).TotalDays, orders.Count, (double)orders.Revenue));
        }

        var quintiles = RfmQuintiles.Compute(customers, now);
        await store.SetMetaAsync(DefinitionsRegistry.QuintilesKey, JsonSerializer.Serialize(quintiles, RuntimeJson.Default.RfmQuintiles), cancellationToken);
        definitions.Install(definitions.Current.WithQuintiles(quintiles, definitions.Current.Version));
        LogRecomputed(logger, customers.Count);
        return quintiles;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var age = time.GetUtcNow() - definitions.Current.Quintiles.ComputedAt;
            try
            {
                if (age >= options.RfmQuintilesInterval)
                {
                    await RecomputeAsync(stoppingToken);
                    age = TimeSpan.Zero;
                }

                // At most a day at a time: timers cannot wait beyond about 49 days, and the age is looked at again anyway.
                var wait = options.RfmQuintilesInterval - age;
                await Task.Delay(wait < TimeSpan.FromDays(1) ? wait : TimeSpan.FromDays(1), time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // The current cut points stay in force; the next attempt comes an hour later.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogFailed(logger, e);
                await Task.Delay(TimeSpan.FromHours(1), time, stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "RFM quintile cut points recomputed from {Customers} customers with orders")]
    private static partial void LogRecomputed(ILogger logger, int customers);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recomputing the RFM quintile cut points failed; the current ones stay in force")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
