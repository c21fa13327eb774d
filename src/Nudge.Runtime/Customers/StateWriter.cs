using System.Runtime.InteropServices;
using Nudge.Engine.Customers;
using Nudge.Storage;

namespace Nudge.Runtime.Customers;

/// <summary>
/// Write-behind for customer state: grains hand over their encoded state after each change, and a
/// flush writes everything pending in one transaction. A grain that re-activates before the flush
/// reads its pending state from here, never a stale row.
/// </summary>
public sealed class StateWriter(INudgeStore store, TimeProvider time) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private Dictionary<string, CustomerStateWrite> _pending = new(StringComparer.Ordinal);
    private Dictionary<string, CustomerStateWrite> _inFlight = new(StringComparer.Ordinal);
    // Product interest from the events the pending states took in, by customer.
    private Dictionary<string, List<ProductTouch>> _touches = new(StringComparer.Ordinal);

    /// <summary>Raised after a flush with the earliest durable timer it wrote.</summary>
    public event Action<DateTimeOffset>? TimerWritten;

    /// <summary>States waiting to be written.</summary>
    public int PendingCount
    {
        get { lock (_lock) return _pending.Count; }
    }

    /// <summary>
    /// Queues a customer's state; changes, journey activity and product touches queued earlier for the
    /// same customer are kept, in order. The touches are handed over: the caller must not change them after.
    /// </summary>
    public void Enqueue(CustomerStateWrite write, IReadOnlyList<ProductTouch>? touches = null)
    {
        lock (_lock)
        {
            Merge(_pending, write);
            if (touches is { Count: > 0 }) AddTouches(_touches, write.CustomerId, touches);
        }
    }

    /// <summary>The state written but not yet flushed for a customer, or null; retired customers read as null.</summary>
    public (bool Found, byte[]? State) Pending(string customerId)
    {
        lock (_lock)
        {
            if (_pending.TryGetValue(customerId, out var w) || _inFlight.TryGetValue(customerId, out w)) return (true, w.Retired ? null : w.State);
            return (false, null);
        }
    }

    /// <summary>States written per transaction: between chunks, other writers (journey intents, ingestion) get the store.</summary>
    private const int Chunk = 2000;

    /// <summary>Product-interest rows written per transaction (each is a small upsert).</summary>
    private const int TouchChunk = 5000;

    /// <summary>
    /// Writes every pending state, in transactions of <see cref="Chunk"/> states, and <paramref name="meta"/>
    /// (e.g. the dispatch checkpoint) with the last one, so the checkpoint never runs ahead of a state.
    /// A state written before the checkpoint is safe: its position makes a replay skip what it holds.
    /// The states go in the store's write order (<see cref="INudgeStore.InWriteOrderAsync"/>), so each
    /// chunk covers its own stretch of the table and no page is written once per chunk.
    /// </summary>
    public async Task FlushAsync(IReadOnlyDictionary<string, string>? meta, CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            Dictionary<string, CustomerStateWrite> batch;
            Dictionary<string, List<ProductTouch>> touches;
            lock (_lock)
            {
                if (_pending.Count == 0 && meta is null) return;
                (batch, _pending) = (_pending, new(StringComparer.Ordinal));
                (touches, _touches) = (_touches, new(StringComparer.Ordinal));
                _inFlight = batch;
            }

            IReadOnlyList<CustomerStateWrite> writes = [.. batch.Values];
            var rows = CustomerTouch.InKeyOrder(Rows(touches));
            var (rowsWritten, written) = (0, 0);
            try
            {
                // Product interest goes first, in key order: a touch written ahead of its state is harmless
                // (a replay notes it again, and the upsert keeps what is newer), one written after it could
                // be lost to a crash in between.
                while (rowsWritten < rows.Count)
                {
                    var slice = rows.GetRange(rowsWritten, Math.Min(TouchChunk, rows.Count - rowsWritten));
                    await store.SaveStatesAsync([], slice, null, time.GetUtcNow(), cancellationToken);
                    rowsWritten += slice.Count;
                }

                writes = await store.InWriteOrderAsync(writes, cancellationToken);
                do
                {
                    var chunk = writes.Skip(written).Take(Chunk).ToList();
                    var last = written + chunk.Count == writes.Count;
                    await store.SaveStatesAsync(chunk, last ? meta : null, time.GetUtcNow(), cancellationToken);
                    written += chunk.Count;
                }
                while (written < writes.Count);
            }
            catch
            {
                // Nothing is lost, nothing is written twice: what was not written goes back in front of
                // whatever was queued meanwhile.
                lock (_lock)
                {
                    Dictionary<string, CustomerStateWrite> left = new(StringComparer.Ordinal);
                    foreach (var w in writes.Skip(written)) left[w.CustomerId] = w;
                    foreach (var newer in _pending.Values) Merge(left, newer);
                    Dictionary<string, List<ProductTouch>> leftTouches = new(StringComparer.Ordinal);
                    foreach (var (customer, touch) in rows.Skip(rowsWritten)) AddTouches(leftTouches, customer, [touch]);
                    foreach (var (customer, newer) in _touches) AddTouches(leftTouches, customer, newer);
                    (_pending, _inFlight, _touches) = (left, new(StringComparer.Ordinal), leftTouches);
                }

                throw;
            }

            lock (_lock) _inFlight = new(StringComparer.Ordinal);
            var earliest = writes.Where(w => w.NextCheckAt is not null).Min(w => w.NextCheckAt);
            if (earliest is { } at) TimerWritten?.Invoke(at);
        }
        finally
        {
            _flushing.Release();
        }
    }

    public void Dispose() => _flushing.Dispose();

    private static void Merge(Dictionary<string, CustomerStateWrite> into, CustomerStateWrite write)
    {
        // One lookup: this runs under the lock after every call of every customer.
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(into, write.CustomerId, out _);
        slot = slot is { } earlier && (earlier.Changes.Count > 0 || earlier.Activity is { Count: > 0 })
            ? write with { Changes = [.. earlier.Changes, .. write.Changes], Activity = [.. earlier.Activity ?? [], .. write.Activity ?? []] }
            : write;
    }

    private static void AddTouches(Dictionary<string, List<ProductTouch>> into, string customerId, IEnumerable<ProductTouch> touches)
    {
        if (into.TryGetValue(customerId, out var list)) list.AddRange(touches);
        // The grain hands over a list it no longer holds: kept as it is, not copied.
        else into[customerId] = touches as List<ProductTouch> ?? [.. touches];
    }

    private static List<CustomerTouch> Rows(Dictionary<string, List<ProductTouch>> touches)
    {
        var count = 0;
        foreach (var list in touches.Values) count += list.Count;
        List<CustomerTouch> rows = new(count);
        foreach (var (customer, list) in touches)
            foreach (var t in list) rows.Add(new CustomerTouch(customer, t));
        return rows;
    }
}
