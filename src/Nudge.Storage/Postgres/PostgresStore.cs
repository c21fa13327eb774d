using System.Data.Common;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Nudge.Engine.Customers;
using Nudge.Engine.Events;
using Nudge.Engine.Messaging;

namespace Nudge.Storage.Postgres;

/// <summary>
/// PostgreSQL, for production and the cluster. An append is two round trips: the dedupe upsert, then
/// the events and profile changes as one batch of array-parameter statements.
/// </summary>
public sealed class PostgresStore(string connectionString) : SqlStore
{
    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);

    public override string Provider => "postgres";

    protected override IReadOnlyList<Migration> Migrations => PostgresSchema.Migrations;

    protected override string ProductIdOfEvent => "((payload::jsonb) #>> '{properties,product_id}')";

    protected override object MoneyValue(decimal value) => value;

    protected override string InTextList(string column, string parameter) => $"{column} = ANY({parameter})";

    protected override object TextListValue(IReadOnlyCollection<string> values) => values.ToArray();

    protected override string LockForUpdate => " FOR UPDATE";

    protected override string SkipLocked => " FOR UPDATE SKIP LOCKED";

    // A session lock, released explicitly: the connection goes back to the pool afterwards.
    private const long MigrationLockKey = 0x4E75_6467_6500; // "Nudge"

    private const long AppendLockKey = 0x4E75_6467_6501; // "Nudge" + 1

    protected override string? CommitWithoutWaitingForTheDisk => "SET LOCAL synchronous_commit = off";

    protected override string? MigrationLock => $"SELECT pg_advisory_lock({MigrationLockKey})";

    protected override string? MigrationUnlock => $"SELECT pg_advisory_unlock({MigrationLockKey})";

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    public override async Task<AppendResult> AppendAsync(IReadOnlyList<IncomingEvent> events, TimeSpan dedupeWindow, CancellationToken cancellationToken)
    {
        if (events.Count == 0) return default;
        var unique = FirstOfEachMessageId(events);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);

        // Rows are locked in message-id order so that concurrent writers (cluster nodes) cannot deadlock.
        var byId = unique.OrderBy(e => e.MessageId, StringComparer.Ordinal).ToArray();
        var fresh = new HashSet<string>(StringComparer.Ordinal);
        await using (var dedupe = new NpgsqlCommand("""
            INSERT INTO ingest_dedupe (message_id, expires_at) SELECT * FROM unnest($1::text[], $2::bigint[])
            ON CONFLICT (message_id) DO UPDATE SET expires_at = excluded.expires_at WHERE ingest_dedupe.expires_at < $3
            RETURNING message_id
            """, connection, tx))
        {
            dedupe.Parameters.Add(Array(byId.Select(e => e.MessageId)));
            dedupe.Parameters.Add(Array(byId.Select(e => DedupeExpiry(e.ReceivedAt, dedupeWindow))));
            dedupe.Parameters.Add(new NpgsqlParameter<long> { TypedValue = unique[0].ReceivedAt.ToUnixTimeMilliseconds() });
            await using var reader = await dedupe.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) fresh.Add(reader.GetString(0));
        }

        var stored = unique.Where(e => fresh.Contains(e.MessageId)).ToList();
        if (stored.Count > 0)
        {
            await using var batch = new NpgsqlBatch(connection, tx);
            // Log positions must become visible in order: the customer runtime reads the log past a
            // checkpoint, and would never see an event whose lower position committed after a higher
            // one. Appends that store events therefore take turns, holding this lock until commit.
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_advisory_xact_lock({AppendLockKey})"));
            batch.BatchCommands.Add(InsertEvents(stored));
            var changes = ProfileChanges.From(stored);
            AddProfileChanges(batch, changes);
            AddConsent(batch, changes.Consents);
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
        return new AppendResult(stored.Count, events.Count - stored.Count);
    }

    private static NpgsqlBatchCommand InsertEvents(List<IncomingEvent> events)
    {
        // WITH ORDINALITY keeps log positions in arrival order.
        var cmd = new NpgsqlBatchCommand("""
            INSERT INTO events (message_id, type, name, user_id, anonymous_id, timestamp, received_at, payload)
            SELECT m, t, n, u, a, ts, r, p FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[])
              WITH ORDINALITY AS x (m, t, n, u, a, ts, r, p, o) ORDER BY o
            """);
        cmd.Parameters.Add(Array(events.Select(e => e.MessageId)));
        cmd.Parameters.Add(Array(events.Select(e => e.Type.ToWire())));
        cmd.Parameters.Add(Array(events.Select(e => e.Name)));
        cmd.Parameters.Add(Array(events.Select(e => e.UserId)));
        cmd.Parameters.Add(Array(events.Select(e => e.AnonymousId)));
        cmd.Parameters.Add(Array(events.Select(e => e.Timestamp.ToUnixTimeMilliseconds())));
        cmd.Parameters.Add(Array(events.Select(e => e.ReceivedAt.ToUnixTimeMilliseconds())));
        cmd.Parameters.Add(Array(events.Select(e => Encoding.UTF8.GetString(e.Utf8Json.Span))));
        return cmd;
    }

    private static void AddProfileChanges(NpgsqlBatch batch, ProfileChanges changes)
    {
        if (changes.Customers.Count > 0)
        {
            var rows = changes.Customers.OrderBy(c => c.Key, StringComparer.Ordinal).ToArray();
            var cmd = new NpgsqlBatchCommand("""
                INSERT INTO customers (user_id, first_seen, last_seen) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
                ON CONFLICT (user_id) DO UPDATE SET first_seen = LEAST(customers.first_seen, excluded.first_seen),
                  last_seen = GREATEST(customers.last_seen, excluded.last_seen)
                """);
            cmd.Parameters.Add(Array(rows.Select(r => r.Key)));
            cmd.Parameters.Add(Array(rows.Select(r => r.Value.First.ToUnixTimeMilliseconds())));
            cmd.Parameters.Add(Array(rows.Select(r => r.Value.Last.ToUnixTimeMilliseconds())));
            batch.BatchCommands.Add(cmd);
        }

        if (changes.Traits.Count > 0)
        {
            var rows = changes.Traits.OrderBy(t => t.Key.Subject, StringComparer.Ordinal).ThenBy(t => t.Key.Name, StringComparer.Ordinal).ToArray();
            var cmd = new NpgsqlBatchCommand("""
                INSERT INTO customer_traits (subject, name, value, updated_at) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
                ON CONFLICT (subject, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                WHERE excluded.updated_at >= customer_traits.updated_at
                """);
            cmd.Parameters.Add(Array(rows.Select(r => r.Key.Subject)));
            cmd.Parameters.Add(Array(rows.Select(r => r.Key.Name)));
            cmd.Parameters.Add(Array(rows.Select(r => r.Value.JsonValue)));
            cmd.Parameters.Add(Array(rows.Select(r => r.Value.UpdatedAt.ToUnixTimeMilliseconds())));
            batch.BatchCommands.Add(cmd);
        }

        if (changes.Links.Count > 0)
        {
            var rows = changes.Links.OrderBy(l => l.Key, StringComparer.Ordinal).ToArray();
            var cmd = new NpgsqlBatchCommand("""
                INSERT INTO identities (identity, kind, user_id, linked_at) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
                ON CONFLICT (identity) DO NOTHING
                """);
            cmd.Parameters.Add(Array(rows.Select(r => r.Key)));
            cmd.Parameters.Add(Array(rows.Select(r => r.Value.Kind)));
            cmd.Parameters.Add(Array(rows.Select(r => r.Value.UserId)));
            cmd.Parameters.Add(Array(rows.Select(r => r.Value.At.ToUnixTimeMilliseconds())));
            batch.BatchCommands.Add(cmd);
        }
    }

    private static void AddConsent(NpgsqlBatch batch, List<ConsentChange> consents)
    {
        if (consents.Count == 0) return;
        var cmd = new NpgsqlBatchCommand("""
            INSERT INTO consent_ledger (subject, channel, topic, granted, source, at)
            SELECT s, c, t, g::integer, src, a FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[]) AS u(s, c, t, g, src, a)
            """);
        cmd.Parameters.Add(Array(consents.Select(c => c.Subject)));
        cmd.Parameters.Add(Array(consents.Select(c => c.Channel)));
        cmd.Parameters.Add(Array(consents.Select(c => c.Topic)));
        cmd.Parameters.Add(Array(consents.Select(c => c.Granted ? 1L : 0L)));
        cmd.Parameters.Add(Array(consents.Select(c => c.Source)));
        cmd.Parameters.Add(Array(consents.Select(c => c.At.ToUnixTimeMilliseconds())));
        batch.BatchCommands.Add(cmd);
    }

    private static NpgsqlParameter Array(IEnumerable<string?> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = values.ToArray() };

    private static NpgsqlParameter Array(IEnumerable<long> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = values.ToArray() };

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
