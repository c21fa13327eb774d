using Nudge.Engine.Customers;
using Nudge.Engine.Events;

namespace Nudge.Storage;

public abstract partial class SqlStore
{
    // A customer's ids: the user id itself, every anonymous id and alias joined to it, and the anonymous
    // ids joined to those aliases (a visitor who became user A, when A was later aliased to B).
    private const string CustomerIds = """
        SELECT @user AS id
        UNION SELECT identity FROM identities WHERE user_id = @user
        UNION SELECT inner_ids.identity FROM identities AS alias_ids JOIN identities AS inner_ids ON inner_ids.user_id = alias_ids.identity
          WHERE alias_ids.user_id = @user
        """;

    public async Task<CustomerProfile?> GetCustomerAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await GetCustomerAsync(connection, id, cancellationToken);
    }

    private static async Task<CustomerProfile?> GetCustomerAsync(System.Data.Common.DbConnection connection, string id, CancellationToken cancellationToken)
    {
        var userId = await ResolveAsync(connection, id, cancellationToken);
        if (userId is null) return null;

        DateTimeOffset first, last;
        await using (var cmd = Command(connection, null, "SELECT first_seen, last_seen FROM customers WHERE user_id = @user", ("user", userId)))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken)) return null;
            (first, last) = (FromMs(reader.GetInt64(0)), FromMs(reader.GetInt64(1)));
        }

        // Traits set under any of the customer's ids merge by the same rule as on write: the latest wins.
        var traits = new Dictionary<string, TraitValue>(StringComparer.Ordinal);
        await using (var cmd = Command(connection, null, $"SELECT name, value, updated_at FROM customer_traits WHERE subject IN ({CustomerIds})", ("user", userId)))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var value = new TraitValue(reader.GetString(1), FromMs(reader.GetInt64(2)));
                var name = reader.GetString(0);
                if (!traits.TryGetValue(name, out var current) || value.UpdatedAt > current.UpdatedAt) traits[name] = value;
            }
        }

        List<Identity> identities = [];
        await using (var cmd = Command(connection, null, "SELECT identity, kind, linked_at FROM identities WHERE user_id = @user ORDER BY linked_at, identity", ("user", userId)))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                identities.Add(new Identity(reader.GetString(0), reader.GetString(1), FromMs(reader.GetInt64(2))));
        }

        return new CustomerProfile(userId, first, last, traits, identities);
    }

    public async Task<IReadOnlyList<StoredEvent>> GetCustomerEventsAsync(string userId, long? before, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // Anonymous events belong to the customer their anonymous id was joined to, unless they named a user themselves.
        await using var cmd = Command(connection, null,
            $"""
            SELECT {EventColumns} FROM events
            WHERE (user_id IN ({CustomerIds}) OR (user_id IS NULL AND anonymous_id IN ({CustomerIds})))
              AND position < @before
            ORDER BY position DESC LIMIT @limit
            """,
            ("user", userId), ("before", before ?? long.MaxValue), ("limit", limit));
        return await ReadEventsAsync(cmd, cancellationToken);
    }

    private static async Task<string?> ResolveAsync(System.Data.Common.DbConnection connection, string id, CancellationToken cancellationToken)
    {
        await using var cmd = Command(connection, null,
            // An id joined to another customer (an anonymous id, or an old user id by alias) resolves to that customer.
            "SELECT user_id FROM (SELECT user_id, 0 AS rank FROM identities WHERE identity = @id UNION ALL SELECT user_id, 1 FROM customers WHERE user_id = @id) AS ids ORDER BY rank LIMIT 1",
            ("id", id));
        return await cmd.ExecuteScalarAsync(cancellationToken) as string;
    }
}
