using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nudge.Engine.Customers;
using Nudge.Engine.Journeys;
using Nudge.Runtime.Customers;
using Nudge.Storage;
using Orleans;

namespace Nudge.Runtime.Journeys;

/// <summary>
/// Sends scheduled journeys (broadcasts, promotion phases): when an occurrence comes due, every member
/// of the journey's segment (or every customer) enters it. The occurrence is recorded as done only
/// after everyone was asked, and customers enter each occurrence once, so a crash half-way through
/// repeats the round without doubling anyone.
/// </summary>
public sealed partial class ScheduledEntries(
    INudgeStore store, IGrainFactory grains, StateWriter writer, JourneyRegistry journeys, TimeProvider time, RuntimeOptions options, ILogger<ScheduledEntries> logger)
    : BackgroundService
{
    private const int Page = 1000;

    /// <summary>The runtime setting holding the last occurrence sent for a journey.</summary>
    public static string DoneKey(string journeyId) => $"schedule_done:{journeyId}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            DateTimeOffset? next = null;
            try
            {
                foreach (var journey in journeys.Current.Scheduled.Where(j => j.Enabled))
                {
                    var at = await RunAsync(journey, (ScheduleTrigger)journey.Trigger, stoppingToken);
                    if (at is { } upcoming && (next is null || upcoming < next)) next = upcoming;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // A failed round is retried; occurrences stay due until recorded as done.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogRoundFailed(logger, e);
            }

            // Journeys saved meanwhile are picked up at the next look.
            var wait = next is { } n ? n - time.GetUtcNow() : options.TimerPoll;
            await Task.Delay(wait < TimeSpan.Zero ? TimeSpan.Zero : wait > options.TimerPoll ? options.TimerPoll : wait, time, stoppingToken);
        }
    }

    /// <summary>Sends the latest due occurrence if not done yet; returns when the next one is due.</summary>
    private async Task<DateTimeOffset?> RunAsync(JourneyDefinition journey, ScheduleTrigger schedule, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var done = await store.GetMetaAsync(DoneKey(journey.Id), cancellationToken) is { } text
            ? DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(text, CultureInfo.InvariantCulture)) : (DateTimeOffset?)null;
        // Occurrences missed while the engine was down are not sent late one by one: the latest counts,
        // and only within a day of its time (a broadcast saved after its date is not sent at all).
        if (schedule.LatestDue(now) is { } due && (done is null || due > done))
        {
            if (now - due > JourneyRunner.DateGrace)
            {
                await store.SetMetaAsync(DoneKey(journey.Id), due.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), cancellationToken);
                LogSkipped(logger, journey.Id, due);
                return schedule.NextAfter(due);
            }

            var sent = 0;
            await foreach (var batch in MembersAsync(schedule.Segment, cancellationToken))
            {
                await Task.WhenAll(batch.Select(id => grains.GetGrain<ICustomerGrain>(id).EnterScheduledAsync(journey.Id, due)));
                sent += batch.Count;
            }

            // The instances entered are durable before the occurrence is recorded as done.
            await writer.FlushAsync(null, cancellationToken);
            await store.SetMetaAsync(DoneKey(journey.Id), due.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), cancellationToken);
            LogSent(logger, journey.Id, due, sent);
            done = due;
        }

        return schedule.NextAfter(done ?? now);
    }

    private async IAsyncEnumerable<List<string>> MembersAsync(string? segment, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (segment is not null)
        {
            string? after = null;
            while (true)
            {
                var page = await store.SegmentMembersAsync(segment, after, Page, cancellationToken);
                if (page.Count == 0) yield break;
                after = page[^1].CustomerId;
                yield return [.. page.Select(m => m.CustomerId)];
            }
        }

        List<string> customers = [];
        await foreach (var bytes in store.ScanStatesAsync(cancellationToken))
        {
            customers.Add(CustomerStateCodec.CustomerId(bytes));
            if (customers.Count < Page) continue;
            yield return customers;
            customers = [];
        }

        if (customers.Count > 0) yield return customers;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduled journey {Journey}: the occurrence of {Occurrence:O} reached {Customers} customers")]
    private static partial void LogSent(ILogger logger, string journey, DateTimeOffset occurrence, int customers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scheduled journey {Journey}: the occurrence of {Occurrence:O} is more than a day past and is not sent")]
    private static partial void LogSkipped(ILogger logger, string journey, DateTimeOffset occurrence);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sending scheduled journeys failed; retrying")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
