using System.Data.Common;
using System.Globalization;
using Nudge.Engine.Customers;

namespace Nudge.Storage;

/// <summary>
/// Product interest: per (product, customer), the latest view and whether the product was ever carted
/// or favourited. The runtime writes it with each customer's state, so appending an event costs no
/// index entry by product; catalog triggers read it, plus the log beyond what the runtime has written.
/// </summary>
public abstract partial class SqlStore
{
    /// <summary>Upserts one touch; a touch that adds nothing (an older view, a second cart add) writes nothing.</summary>
    protected const string TouchUpsert = """
        INSERT INTO product_interest (product_id, customer_id, viewed_at, carted, wished) VALUES (@p, @c, @v, @ca, @w)
        ON CONFLICT (product_id, customer_id) DO UPDATE SET
          viewed_at = CASE WHEN product_interest.viewed_at IS NULL OR excluded.viewed_at > product_interest.viewed_at THEN excluded.viewed_at ELSE product_interest.viewed_at END,
          carted = CASE WHEN excluded.carted > product_interest.carted THEN excluded.carted ELSE product_interest.carted END,
          wished = CASE WHEN excluded.wished > product_interest.wished THEN excluded.wished ELSE product_interest.wished END
        WHERE excluded.viewed_at > COALESCE(product_interest.viewed_at, -1) OR excluded.carted > product_interest.carted OR excluded.wished > product_interest.wished
        """;

    /// <summary>The touch's values for <see cref="TouchUpsert"/>.</summary>
    protected static (long? Viewed, int Carted, int Wished) TouchValues(ProductTouch t) =>
        (t.Viewed?.ToUnixTimeMilliseconds(), t.Carted ? 1 : 0, t.Wished ? 1 : 0);

    private static async Task WriteTouchesAsync(DbConnection connection, DbTransaction tx, List<CustomerTouch> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0) return;
        await using var upsert = Command(connection, tx, TouchUpsert, ("p", ""), ("c", ""), ("v", null), ("ca", 0), ("w", 0));
        foreach (var (customer, t) in rows)
        {
            var (viewed, carted, wished) = TouchValues(t);
            Set(upsert, ("p", t.ProductId), ("c", customer), ("v", viewed), ("ca", carted), ("w", wished));
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public async Task<IReadOnlyList<ProductInterest>> CustomersInterestedInAsync(string productId, DateTimeOffset viewedSince, long writtenUpTo, CancellationToken cancellationToken)
    {
        var since = viewedSince.ToUnixTimeMilliseconds();
        Dictionary<string, ProductInterest> interested = new(StringComparer.Ordinal);
        void Add(ProductInterest i) => interested[i.CustomerId] = interested.TryGetValue(i.CustomerId, out var seen)
            ? new ProductInterest(i.CustomerId, Later(seen.LastViewed, i.LastViewed), seen.AddedToCart || i.AddedToCart, seen.AddedToWishlist || i.AddedToWishlist)
            : i;

        await using var connection = await OpenAsync(cancellationToken);
        // Ids are resolved through identities as the dispatcher resolves them: interest recorded under a
        // previous user id (merged into another customer since) counts for the customer it was merged into.
        await using (var cmd = Command(connection, null, """
            SELECT COALESCE(alias.user_id, direct.user_id, pi.customer_id), CASE WHEN viewed_at >= @since THEN viewed_at END, carted, wished
            FROM product_interest AS pi
            LEFT JOIN identities AS direct ON direct.identity = pi.customer_id
            LEFT JOIN identities AS alias ON alias.identity = direct.user_id
            WHERE product_id = @p AND (viewed_at >= @since OR carted = 1 OR wished = 1)
            """, ("p", productId), ("since", since)))
        {
            await ReadInterestAsync(cmd, Add, cancellationToken);
        }

        // Events the runtime has not written back yet, read from the log itself: the stretch is short
        // (the runtime's lag), so a scan by position is cheap. Anonymous events count for the customer
        // their id was joined to.
        await using (var cmd = Command(connection, null, $"""
            SELECT COALESCE(alias.user_id, direct.user_id, e.user_id) AS customer,
                   MAX(CASE WHEN e.name = 'Product Viewed' AND e.timestamp >= @since THEN e.timestamp END),
                   MAX(CASE WHEN e.name = 'Product Added' THEN 1 ELSE 0 END),
                   MAX(CASE WHEN e.name = 'Product Added to Wishlist' THEN 1 ELSE 0 END)
            FROM events AS e
            LEFT JOIN identities AS direct ON direct.identity = COALESCE(e.user_id, e.anonymous_id)
            LEFT JOIN identities AS alias ON alias.identity = direct.user_id
            WHERE e.position > @after AND e.name IN ('Product Viewed', 'Product Added', 'Product Added to Wishlist') AND {ProductIdOfEvent} = @p
              AND (e.name <> 'Product Viewed' OR e.timestamp >= @since)
            GROUP BY COALESCE(alias.user_id, direct.user_id, e.user_id)
            """, ("p", productId), ("since", since), ("after", writtenUpTo)))
        {
            await ReadInterestAsync(cmd, Add, cancellationToken);
        }

        return [.. interested.Values];
    }

    private static async Task ReadInterestAsync(DbCommand cmd, Action<ProductInterest> add, CancellationToken cancellationToken)
    {
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (reader.IsDBNull(0)) continue;
            add(new ProductInterest(reader.GetString(0), reader.IsDBNull(1) ? null : FromMs(reader.GetInt64(1)), Flag(reader, 2), Flag(reader, 3)));
        }
    }

    private static bool Flag(DbDataReader reader, int ordinal) => Convert.ToInt32(reader.GetValue(ordinal), CultureInfo.InvariantCulture) == 1;

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null || a >= b ? a : b;
}
