using System.Runtime.InteropServices;
using Nudge.Engine.Customers;
using Nudge.Engine.Events;
using Nudge.Engine.Journeys;

namespace Nudge.Storage;

/// <summary>A customer's state to write back, with the changes noticed since the last write.</summary>
/// <param name="CustomerId">The customer.</param>
/// <param name="Position">The last log position folded into <paramref name="State"/>.</param>
/// <param name="NextCheckAt">When time alone next changes something about the customer (the durable timer).</param>
/// <param name="State">The encoded state.</param>
/// <param name="Changes">Tag, stage, RFM and segment changes, oldest first; segment entries and exits also update the member lists.</param>
/// <param name="Retired">The customer was merged into another: state and memberships are removed.</param>
/// <param name="Activity">Journey activity since the last write: written in the same transaction as the state it led to.</param>
public sealed record CustomerStateWrite(string CustomerId, long Position, DateTimeOffset? NextCheckAt, byte[] State, IReadOnlyList<CustomerChange> Changes, bool Retired = false,
    IReadOnlyList<JourneyActivity>? Activity = null);

/// <summary>A product a customer viewed, carted or favourited, for the product-interest table that catalog triggers read.</summary>
/// <param name="CustomerId">The customer.</param>
/// <param name="Touch">What they did with the product.</param>
public readonly record struct CustomerTouch(string CustomerId, ProductTouch Touch)
{
    /// <summary>
    /// The touches as rows: one per (product, customer), merged, in key order. In order, consecutive
    /// upserts land on the same pages of the table, so a large write-back dirties each page once.
    /// </summary>
    public static List<CustomerTouch> InKeyOrder(IEnumerable<CustomerTouch> touches)
    {
        List<CustomerTouch> rows = [.. touches];
        // Rows already in order (a write-back's slices) need no second sort.
        if (!InOrder(rows)) rows = Sorted(rows);
        // Sorted, the touches of one (product, customer) are neighbours: each run merges into its first.
        var kept = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (kept > 0 && rows[kept - 1] is var last && last.CustomerId == row.CustomerId && last.Touch.ProductId == row.Touch.ProductId)
                rows[kept - 1] = last with { Touch = last.Touch.With(row.Touch) };
            else rows[kept++] = row;
        }

        rows.RemoveRange(kept, rows.Count - kept);
        return rows;
    }

    private static int Compare(CustomerTouch a, CustomerTouch b) =>
        string.CompareOrdinal(a.Touch.ProductId, b.Touch.ProductId) is var c && c != 0 ? c : string.CompareOrdinal(a.CustomerId, b.CustomerId);

    /// <summary>
    /// Grouped by product first: sorting the distinct products, then each product's few customers,
    /// compares far fewer strings than sorting every row against every other.
    /// </summary>
    private static List<CustomerTouch> Sorted(List<CustomerTouch> rows)
    {
        Dictionary<string, List<CustomerTouch>> byProduct = new(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            ref var group = ref CollectionsMarshal.GetValueRefOrAddDefault(byProduct, row.Touch.ProductId, out _);
            (group ??= []).Add(row);
        }

        var products = byProduct.Keys.ToArray();
        Array.Sort(products, StringComparer.Ordinal);
        List<CustomerTouch> sorted = new(rows.Count);
        foreach (var product in products)
        {
            var group = byProduct[product];
            if (group.Count > 1) group.Sort(static (a, b) => string.CompareOrdinal(a.CustomerId, b.CustomerId));
            sorted.AddRange(group);
        }

        return sorted;
    }

    private static bool InOrder(List<CustomerTouch> rows)
    {
        for (var i = 1; i < rows.Count; i++)
            if (Compare(rows[i - 1], rows[i]) > 0) return false;
        return true;
    }
}

/// <summary>An event from the log with the customer it belongs to now.</summary>
/// <param name="Event">The event.</param>
/// <param name="Owner">The user id the event's ids resolve to; null for an anonymous id not yet joined to anyone.</param>
public readonly record struct OwnedEvent(StoredEvent Event, string? Owner);

/// <summary>A stored definition document.</summary>
/// <param name="Kind">tag, stage, segment or rfm.</param>
/// <param name="Id">Its id within the kind.</param>
/// <param name="Json">The definition as JSON.</param>
/// <param name="Ordinal">Order within the kind (stages are ordered by priority).</param>
/// <param name="UpdatedAt">When it was last saved.</param>
public sealed record StoredDefinition(string Kind, string Id, string Json, int Ordinal, DateTimeOffset UpdatedAt);

/// <summary>A customer in a segment.</summary>
/// <param name="CustomerId">The customer.</param>
/// <param name="Since">When they entered.</param>
public readonly record struct SegmentMember(string CustomerId, DateTimeOffset Since);

/// <summary>A customer whose events failed to apply again and again while everyone else's did: set aside so the rest go on.</summary>
/// <param name="CustomerId">The customer.</param>
/// <param name="Position">The log position from which their events wait: the first of theirs not applied (or, when a timer failed, the next one).</param>
/// <param name="Reason">The error, as the grain reported it.</param>
/// <param name="At">When they were set aside.</param>
public sealed record QuarantinedCustomer(string CustomerId, long Position, string Reason, DateTimeOffset At);

/// <summary>Receives one stored customer state, valid only during the call.</summary>
/// <param name="state">The encoded state.</param>
public delegate void StateVisitor(ReadOnlySpan<byte> state);
