using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Nudge.Storage;

namespace Nudge.Runtime.Dispatch;

/// <summary>
/// Customers set aside because their events kept failing to apply while everyone else's applied: one
/// broken customer must not hold up the whole log. Their events stay in the log, unapplied, until the
/// customer is released (<see cref="LogDispatcher.ReleaseAsync"/>), which applies them all in order.
/// Kept in the store, so a restart goes on skipping them.
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
    public async Task SetAsideAsync(string customerId, long position, Exception error, CancellationToken cancellationToken)
    {
        await store.QuarantineAsync(new QuarantinedCustomer(customerId, position, Reason(error), time.GetUtcNow()), cancellationToken);
        ImmutableInterlocked.Update(ref _ids, ids => ids.Add(customerId));
        LogSetAside(logger, error, customerId, position);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Customer '{CustomerId}' is set aside: their events from log position {Position} failed to apply again and again while other customers' applied. They wait in the log; release the customer (POST /api/quarantine/{CustomerId}/release) to apply them")]
    private static partial void LogSetAside(ILogger logger, Exception exception, string customerId, long position);
}
