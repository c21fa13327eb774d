using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using Nudge.Engine.Customers;
using Nudge.Engine.Events;

namespace Nudge.Storage;

public abstract partial class SqlStore
{
    private const string DefinitionsVersionKey = "definitions_version";

    public async Task<IReadOnlyList<OwnedEvent>> ReadLogForDispatchAsync(long after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // The owner is resolved through identities as they are now: an anonymous id joined later is
        // resolved then, and the customer rebuilds from the log to take in its earlier events.
        await using var cmd = Command(connection, null, $"""
            SELECT {PrefixedEventColumns}, COALESCE(alias.user_id, direct.user_id, e.user_id)
            FROM events AS e
            LEFT JOIN identities AS direct ON direct.identity = COALESCE(e.user_id, e.anonymous_id)
            LEFT JOIN identities AS alias ON alias.identity = direct.user_id
            WHERE e.position > @after ORDER BY e.position LIMIT @limit
            """, ("after", after), ("limit", limit));
        List<OwnedEvent> events = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) events.Add(new OwnedEvent(ReadEvent(reader), NullableString(reader, 9)));
        return events;
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadCustomerLogAsync(string userId, long upTo, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, $"""
            SELECT {EventColumns} FROM events
            WHERE (user_id IN ({CustomerIds}) OR (user_id IS NULL AND anonymous_id IN ({CustomerIds})))
              AND position <= @upTo
            ORDER BY position
            """, ("user", userId), ("upTo", upTo));
        return await ReadEventsAsync(cmd, cancellationToken);
    }

    public async Task<byte[]?> LoadStateAsync(string customerId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT state FROM customer_state WHERE customer_id = @id", ("id", customerId));
        return await cmd.ExecuteScalarAsync(cancellationToken) as byte[];
    }

    /// <summary>By customer id, the order of the table's key.</summary>
    public virtual Task<IReadOnlyList<CustomerStateWrite>> InWriteOrderAsync(IReadOnlyList<CustomerStateWrite> writes, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<CustomerStateWrite>>([.. writes.OrderBy(w => w.CustomerId, StringComparer.Ordinal)]);

    public virtual async Task SaveStatesAsync(IReadOnlyList<CustomerStateWrite> writes, IReadOnlyList<CustomerTouch> touches, IReadOnlyDictionary<string, string>? meta, DateTimeOffset at,
        CancellationToken cancellationToken)
    {
        var interest = CustomerTouch.InKeyOrder(touches);
        // A write-back holds only what the durable event log derives again: lost to a crash, it goes with
        // its checkpoint, and the replay writes it anew. So its commit does not wait for the disk.
        await using var write = await BeginWriteAsync(cancellationToken, waitForDisk: false);
        var (connection, tx) = (write.Connection, write.Transaction);
        await using var upsert = Command(connection, tx, """
            INSERT INTO customer_state (customer_id, position, next_check_at, state, updated_at) VALUES (@id, @position, @next, @state, @at)
            ON CONFLICT (customer_id) DO UPDATE SET position = excluded.position, next_check_at = excluded.next_check_at, state = excluded.state, updated_at = excluded.updated_at
            """, ("id", ""), ("position", 0L), ("next", null), ("state", Array.Empty<byte>()), ("at", at.ToUnixTimeMilliseconds()));
        await using var changeLog = Command(connection, tx, ChangeLogInsert, ("c", ""), ("e", ""));
        await using var enter = Command(connection, tx,
            "INSERT INTO segment_members (segment_id, customer_id, since) VALUES (@segment, @id, @since) ON CONFLICT (segment_id, customer_id) DO UPDATE SET since = excluded.since",
            ("segment", ""), ("id", ""), ("since", 0L));
        await using var leave = Command(connection, tx, "DELETE FROM segment_members WHERE segment_id = @segment AND customer_id = @id", ("segment", ""), ("id", ""));
        await using var history = Command(connection, tx, HistoryInsert, ("c", ""), ("at", 0L), ("e", ""));

        foreach (var w in writes)
        {
            if (w.Activity is { Count: > 0 }) await WriteHistoryAsync(history, w.CustomerId, w.Activity, cancellationToken);
            if (w.Retired)
            {
                await ExecuteAsync(connection, tx, "DELETE FROM customer_state WHERE customer_id = @id", cancellationToken, ("id", w.CustomerId));
                await ExecuteAsync(connection, tx, "DELETE FROM segment_members WHERE customer_id = @id", cancellationToken, ("id", w.CustomerId));
                continue;
            }

            Set(upsert, ("id", w.CustomerId), ("position", w.Position), ("next", w.NextCheckAt?.ToUnixTimeMilliseconds()), ("state", w.State));
            await upsert.ExecuteNonQueryAsync(cancellationToken);
            if (w.Changes.Count > 0)
            {
                Set(changeLog, ("c", w.CustomerId), ("e", PackChanges(w.Changes)));
                await changeLog.ExecuteNonQueryAsync(cancellationToken);
            }

            foreach (var c in w.Changes)
            {
                if (c.Kind == ChangeKinds.SegmentEntered)
                {
                    Set(enter, ("segment", c.Name), ("id", w.CustomerId), ("since", c.At.ToUnixTimeMilliseconds()));
                    await enter.ExecuteNonQueryAsync(cancellationToken);
                }
                else if (c.Kind == ChangeKinds.SegmentLeft)
                {
                    Set(leave, ("segment", c.Name), ("id", w.CustomerId));
                    await leave.ExecuteNonQueryAsync(cancellationToken);
                }
            }
        }

        await using (var count = Command(connection, tx, CountUpsert, ("j", ""), ("v", 0), ("k", ""), ("s", ""), ("r", ""), ("n", 0L)))
        {
            foreach (var ((journey, version, kind, step, reason), n) in ActivityCounts(writes))
            {
                Set(count, ("j", journey), ("v", version), ("k", kind), ("s", step), ("r", reason), ("n", n));
                await count.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await WriteTouchesAsync(connection, tx, interest, cancellationToken);
        foreach (var (key, value) in meta ?? new Dictionary<string, string>())
            await SetMetaAsync(connection, tx, key, value, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<(string CustomerId, DateTimeOffset Due)>> DueCustomersAsync(
        DateTimeOffset until, int limit, (string CustomerId, DateTimeOffset Due)? after, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var from = after is null ? "" : "AND (next_check_at, customer_id) > (@afterDue, @afterId)";
        await using var cmd = Command(connection, null,
            $"SELECT customer_id, next_check_at FROM customer_state WHERE next_check_at IS NOT NULL AND next_check_at <= @until {from} ORDER BY next_check_at, customer_id LIMIT @limit",
            ("until", until.ToUnixTimeMilliseconds()), ("limit", limit), ("afterDue", after?.Due.ToUnixTimeMilliseconds() ?? 0), ("afterId", after?.CustomerId ?? ""));
        List<(string, DateTimeOffset)> due = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) due.Add((reader.GetString(0), FromMs(reader.GetInt64(1))));
        return due;
    }

    public async IAsyncEnumerable<byte[]> ScanStatesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT state FROM customer_state");
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) yield return (byte[])reader.GetValue(0);
    }

    public virtual async Task VisitStatesAsync(int partitions, Func<int, StateVisitor> visitorFor, CancellationToken cancellationToken)
    {
        var visit = visitorFor(0);
        await foreach (var bytes in ScanStatesAsync(cancellationToken)) visit(bytes);
    }

    public async Task<long> CountStatesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT COUNT(*) FROM customer_state");
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyList<SegmentMember>> SegmentMembersAsync(string segmentId, string? after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null,
            "SELECT customer_id, since FROM segment_members WHERE segment_id = @segment AND customer_id > @after ORDER BY customer_id LIMIT @limit",
            ("segment", segmentId), ("after", after ?? ""), ("limit", limit));
        List<SegmentMember> members = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) members.Add(new SegmentMember(reader.GetString(0), FromMs(reader.GetInt64(1))));
        return members;
    }

    public async Task<long> CountSegmentMembersAsync(string segmentId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT COUNT(*) FROM segment_members WHERE segment_id = @segment", ("segment", segmentId));
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task<(long Version, IReadOnlyList<StoredDefinition> Definitions)> LoadDefinitionsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var version = long.Parse(await GetMetaAsync(connection, DefinitionsVersionKey, cancellationToken) ?? "0", CultureInfo.InvariantCulture);
        await using var cmd = Command(connection, null, "SELECT kind, id, json, ordinal, updated_at FROM definitions ORDER BY kind, ordinal, id");
        List<StoredDefinition> definitions = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            definitions.Add(new StoredDefinition(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), FromMs(reader.GetInt64(4))));
        return (version, definitions);
    }

    public async Task<long> ReplaceDefinitionsAsync(string kind, IReadOnlyList<StoredDefinition> put, IReadOnlyList<string> delete, bool replaceKind, CancellationToken cancellationToken)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        var (connection, tx) = (write.Connection, write.Transaction);
        // Every change bumps one version number, read and written in the same transaction.
        var version = long.Parse(await GetMetaAsync(connection, DefinitionsVersionKey, cancellationToken, tx) ?? "0", CultureInfo.InvariantCulture) + 1;
        if (replaceKind) await ExecuteAsync(connection, tx, "DELETE FROM definitions WHERE kind = @kind", cancellationToken, ("kind", kind));
        foreach (var id in delete)
            await ExecuteAsync(connection, tx, "DELETE FROM definitions WHERE kind = @kind AND id = @id", cancellationToken, ("kind", kind), ("id", id));
        foreach (var d in put)
        {
            await ExecuteAsync(connection, tx, """
                INSERT INTO definitions (kind, id, json, ordinal, updated_at) VALUES (@kind, @id, @json, @ordinal, @at)
                ON CONFLICT (kind, id) DO UPDATE SET json = excluded.json, ordinal = excluded.ordinal, updated_at = excluded.updated_at
                """, cancellationToken, ("kind", kind), ("id", d.Id), ("json", d.Json), ("ordinal", d.Ordinal), ("at", d.UpdatedAt.ToUnixTimeMilliseconds()));
        }

        await SetMetaAsync(connection, tx, DefinitionsVersionKey, version.ToString(CultureInfo.InvariantCulture), cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return version;
    }

    public async Task<string?> GetMetaAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await GetMetaAsync(connection, key, cancellationToken);
    }

    public async Task QuarantineAsync(QuarantinedCustomer customer, CancellationToken cancellationToken)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        await ExecuteAsync(write.Connection, write.Transaction, """
            INSERT INTO customer_quarantine (customer_id, position, reason, quarantined_at) VALUES (@c, @p, @r, @t)
            ON CONFLICT (customer_id) DO UPDATE SET reason = excluded.reason
            """, cancellationToken, ("c", customer.CustomerId), ("p", customer.Position), ("r", customer.Reason), ("t", customer.At.ToUnixTimeMilliseconds()));
        await ExecuteAsync(write.Connection, write.Transaction, "UPDATE customer_state SET next_check_at = NULL WHERE customer_id = @c", cancellationToken, ("c", customer.CustomerId));
        await write.Transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<QuarantinedCustomer>> QuarantinedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT customer_id, position, reason, quarantined_at FROM customer_quarantine ORDER BY quarantined_at, customer_id");
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        List<QuarantinedCustomer> customers = [];
        while (await reader.ReadAsync(cancellationToken)) customers.Add(new QuarantinedCustomer(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), FromMs(reader.GetInt64(3))));
        return customers;
    }

    public async Task<bool> ReleaseQuarantineAsync(string customerId, CancellationToken cancellationToken) =>
        await WriteAsync("DELETE FROM customer_quarantine WHERE customer_id = @c", cancellationToken, ("c", customerId)) > 0;

    public async Task SetMetaAsync(string key, string value, CancellationToken cancellationToken)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        await SetMetaAsync(write.Connection, write.Transaction, key, value, cancellationToken);
        await write.Transaction.CommitAsync(cancellationToken);
    }

    private async Task<string?> GetMetaAsync(DbConnection connection, string key, CancellationToken cancellationToken, DbTransaction? tx = null)
    {
        await using var cmd = Command(connection, tx, $"SELECT value FROM runtime_meta WHERE key = @key{(tx is null ? "" : LockForUpdate)}", ("key", key));
        return await cmd.ExecuteScalarAsync(cancellationToken) as string;
    }

    private static Task<int> SetMetaAsync(DbConnection connection, DbTransaction? tx, string key, string value, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, tx, "INSERT INTO runtime_meta (key, value) VALUES (@key, @value) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            cancellationToken, ("key", key), ("value", value));

    private static void Set(DbCommand cmd, params (string Name, object? Value)[] values)
    {
        foreach (var (name, value) in values) cmd.Parameters[name].Value = value ?? DBNull.Value;
    }
}
