using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nudge.Runtime.Customers;
using Nudge.Runtime.Dispatch;
using Nudge.Storage;
using Orleans;

namespace Nudge.Runtime.Timers;

/// <summary>
/// Fires customers' durable timers. Each customer's state carries the earliest time at which time
/// alone changes something about them; the pump sleeps until the earliest of those (or until an
/// earlier one is written), then asks each due customer to re-evaluate. Nothing rescans every customer.
/// </summary>
public sealed partial class TimerPump(
    INudgeStore store, CustomerGrains grains, StateWriter writer, LogDispatcher dispatcher, Quarantine quarantine, TimeProvider time, RuntimeOptions options, ILogger<TimerPump> logger)
    : BackgroundService
{
    private TaskCompletionSource<bool> _earlier = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _sleepingUntilMs = long.MaxValue;

    // A pass pages through every due customer, each round after the last customer the one before fired,
    // so two rounds can overlap without meeting the same customers: while one round's grains compute,
    // the previous round's intents and states are written.
    private (string CustomerId, DateTimeOffset Due)? _passAfter;
    private Task _previous = Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        writer.TimerWritten += OnTimerWritten;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await RoundAsync(stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
#pragma warning disable CA1031 // A failed round is retried; timers stay due until their customer re-evaluates.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    // The round still running ends (or fails) before the pass starts over.
                    await Task.WhenAny(_previous);
                    (_passAfter, _previous) = (null, Task.CompletedTask);
                    LogRoundFailed(logger, e);
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                }
            }
        }
        finally
        {
            // The pump stops once the round it started has ended.
            await Task.WhenAny(_previous);
            writer.TimerWritten -= OnTimerWritten;
        }
    }

    private async Task RoundAsync(CancellationToken cancellationToken)
    {
        if (_passAfter is null)
        {
            // A new pass starts from due times as grains last wrote them, which are visible once flushed:
            // customers fired earlier and still due are met again, the others not.
            await _previous;
            await writer.FlushAsync(null, cancellationToken);
        }

        var now = time.GetUtcNow();
        var due = await store.DueCustomersAsync(now, options.TimersPerRound, _passAfter, cancellationToken);
        if (due.Count > 0)
        {
            // Timers never overtake events already in the log (a backlog, a restart, a jump in virtual
            // time): a step due after an order was placed runs only once that order has been seen.
            var last = await store.LastPositionAsync(cancellationToken);
            await dispatcher.WaitForAsync(last, cancellationToken);
            // A customer whose check keeps failing while others' succeed is set aside, like one whose
            // events do; their timer is cleared, so it does not fail every round from then on.
            var round = FireAsync(due, last + 1, cancellationToken);
            var previous = _previous;
            (_previous, _passAfter) = (round, due.Count == options.TimersPerRound ? due[^1] : null);
            await previous;
            return;
        }

        if (_passAfter is not null)
        {
            _passAfter = null;
            return;
        }

        var next = await store.DueCustomersAsync(DateTimeOffset.MaxValue, 1, null, cancellationToken);
        var wake = next.Count == 0 ? now + options.TimerPoll : next[0].Due < now + options.TimerPoll ? next[0].Due : now + options.TimerPoll;
        _earlier = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _sleepingUntilMs, wake.ToUnixTimeMilliseconds());
        await Task.WhenAny(Task.Delay(Max(wake - time.GetUtcNow(), TimeSpan.Zero), time, cancellationToken), _earlier.Task);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task FireAsync(IReadOnlyList<(string CustomerId, DateTimeOffset Due)> due, long position, CancellationToken cancellationToken)
    {
        await quarantine.CallEachAsync([.. due.Select(d => new CustomerCall(d.CustomerId, position, () => grains.Get(d.CustomerId).CheckAsync(d.Due)))], setAsideAlone: false, cancellationToken);
        await writer.FlushAsync(null, cancellationToken);
    }

    private void OnTimerWritten(DateTimeOffset at)
    {
        if (at.ToUnixTimeMilliseconds() < Interlocked.Read(ref _sleepingUntilMs)) _earlier.TrySetResult(true);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Error, Message = "Firing due customer timers failed; retrying")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
