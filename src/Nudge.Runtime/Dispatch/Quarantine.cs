using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Nudge.Storage;

namespace Nudge.Runtime.Dispatch;

/// <summary>A call to one customer's grain that may be made again.</summary>
/// <param name="CustomerId">The customer.</param>
/// <param name="Position">The first log position that waits if the customer is set aside.</param>
/// <param name="Start">Makes the call.</param>
public sealed record CustomerCall(string CustomerId, long Position, Func<Task> Start);

/// <summary>
/// Customers set aside because their events (or their timer) kept failing while everyone else's
/// succeeded: one broken customer must not hold up the whole log. Their events stay in the log,
/// unapplied, until the customer is released (<see cref="LogDispatcher.ReleaseAsync"/>), which applies
/// them all in order. Kept in the store, so a restart goes on skipping them.
/// </summary>
public sealed partial class Quarantine(INudgeStore store, TimeProvider time, ILogger<Quarantine> logger)
{
    private ImmutableHashSet<string> _ids = ImmutableHashSet.Create<string>(StringComparer.Ordinal);

    /// <summary>Whether a customer's events are being skipped.</summary>
    public bool Contains(string customerId) => Volatile.Read(ref _ids).Contains(customerId);

    /// <summary>Whether anyone is set aside (a cheap test before looking customers up).</summary>
    public bool IsEmpty => Volatile.Read(ref _ids).IsEmpty;

    /// <summary>Reads who is set aside from the store.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        var stored = await store.QuarantinedAsync(cancellationToken);
        Volatile.Write(ref _ids, stored.Select(q => q.CustomerId).ToImmutableHashSet(StringComparer.Ordinal));
    }

    /// <summary>Sets a customer aside from <paramref name="position"/> on, durably, before their events are skipped.</summary>
    private async Task SetAsideAsync(string customerId, long position, Exception error, CancellationToken cancellationToken)
    {
        await store.QuarantineAsync(new QuarantinedCustomer(customerId, position, Reason(error), time.GetUtcNow()), cancellationToken);
        ImmutableInterlocked.Update(ref _ids, ids => ids.Add(customerId));
        LogSetAside(logger, error, customerId, position);
    }

    /// <summary>Retries of a failing customer within a round, before they are set aside.</summary>
    private static readonly TimeSpan[] RetryDelays = [TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)];

    /// <summary>
    /// Makes one call per customer (a dispatch round, a round of timers). When some fail while others
    /// succeed, the failures are the customers' own: they are retried twice, then set aside. When every
    /// call fails, the fault is the engine's or its store's, and the first error is thrown for the
    /// round to be retried — unless <paramref name="setAsideAlone"/> allows setting aside a customer
    /// who is the only one in the round.
    /// </summary>
    public async Task CallEachAsync(IReadOnlyList<CustomerCall> calls, bool setAsideAlone, CancellationToken cancellationToken)
    {
        var running = calls.Select(c => (Call: c, Task: c.Start())).ToList();
        try
        {
            await Task.WhenAll(running.Select(r => r.Task));
            return;
        }
        catch (Exception) when (running.Any(r => r.Task.IsCompletedSuccessfully) || (running.Count == 1 && setAsideAlone))
        {
            // Looked at below.
        }

        var failing = running.Where(r => !r.Task.IsCompletedSuccessfully).ToList();
        foreach (var delay in RetryDelays)
        {
            await Task.Delay(delay, cancellationToken);
            failing = [.. failing.Select(r => (r.Call, r.Call.Start()))];
            try
            {
                await Task.WhenAll(failing.Select(r => r.Task));
                return;
            }
#pragma warning disable CA1031 // Each failure is looked at below.
            catch (Exception)
#pragma warning restore CA1031
            {
                failing = [.. failing.Where(r => !r.Task.IsCompletedSuccessfully)];
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        foreach (var (call, task) in failing) await SetAsideAsync(call.CustomerId, call.Position, task.Exception!, cancellationToken);
    }

    /// <summary>Ends a customer's quarantine, in the store and here.</summary>
    internal async Task RemoveAsync(string customerId, CancellationToken cancellationToken)
    {
        await store.ReleaseQuarantineAsync(customerId, cancellationToken);
        ImmutableInterlocked.Update(ref _ids, ids => ids.Remove(customerId));
    }

    /// <summary>The innermost error's type and message: what an operator needs to recognise the fault.</summary>
    public static string Reason(Exception error)
    {
        var inner = error;
        while (inner is AggregateException { InnerException: { } next }) inner = next;
        var reason = $"{inner.GetType().Name}: {inner.Message}";
        return reason.Length <= 1000 ? reason : reason[..1000];
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Customer '{CustomerId}' is set aside: they failed again and again while other customers did not. Their events from log position {Position} on wait in the log; release the customer (POST /api/quarantine/{CustomerId}/release) to apply them")]
    private static partial void LogSetAside(ILogger logger, Exception exception, string customerId, long position);
}
