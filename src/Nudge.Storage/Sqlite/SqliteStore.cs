using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Nudge.Engine.Customers;
using Nudge.Engine.Events;

namespace Nudge.Storage.Sqlite;

/// <summary>
/// The embedded default: one SQLite file in WAL mode. Appends go through one writer connection with
/// prepared statements; <c>synchronous=FULL</c> makes every commit durable before it returns.
/// </summary>
public sealed class SqliteStore : SqlStore
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private SqliteConnection? _writer;
    private SqliteCommand? _dedupe, _insert, _customer, _trait, _link;

    public SqliteStore(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    public override string Provider => "sqlite";

    protected override IReadOnlyList<Migration> Migrations => SqliteSchema.Migrations;

    protected override object MoneyValue(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        using var pragma = connection.CreateCommand();
        // WAL is a property of the file (set once); synchronous is per connection.
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    public override async Task<AppendResult> AppendAsync(IReadOnlyList<IncomingEvent> events, TimeSpan dedupeWindow, CancellationToken cancellationToken)
    {
        if (events.Count == 0) return default;
        var unique = FirstOfEachMessageId(events);
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            var writer = await WriterAsync(cancellationToken);
            // Microsoft.Data.Sqlite's async calls complete synchronously; the sync API avoids their overhead on the hot path.
            using var tx = writer.BeginTransaction();
            List<IncomingEvent> stored = new(unique.Count);
            foreach (var e in unique)
            {
                if (!IsNew(tx, e, dedupeWindow)) continue;
                Insert(tx, e);
                stored.Add(e);
            }

            ApplyProfileChanges(tx, ProfileChanges.From(stored));
            tx.Commit();
            return new AppendResult(stored.Count, events.Count - stored.Count);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private bool IsNew(SqliteTransaction tx, IncomingEvent e, TimeSpan window)
    {
        var cmd = _dedupe!;
        cmd.Transaction = tx;
        cmd.Parameters[0].Value = e.MessageId;
        cmd.Parameters[1].Value = DedupeExpiry(e.ReceivedAt, window);
        cmd.Parameters[2].Value = e.ReceivedAt.ToUnixTimeMilliseconds();
        // 1 row: first sighting, or the previous one's window has ended. 0 rows: a duplicate.
        return cmd.ExecuteNonQuery() == 1;
    }

    private void Insert(SqliteTransaction tx, IncomingEvent e)
    {
        var cmd = _insert!;
        cmd.Transaction = tx;
        var p = cmd.Parameters;
        p[0].Value = e.MessageId;
        p[1].Value = e.Type.ToWire();
        p[2].Value = (object?)e.Name ?? DBNull.Value;
        p[3].Value = (object?)e.UserId ?? DBNull.Value;
        p[4].Value = (object?)e.AnonymousId ?? DBNull.Value;
        p[5].Value = e.Timestamp.ToUnixTimeMilliseconds();
        p[6].Value = e.ReceivedAt.ToUnixTimeMilliseconds();
        p[7].Value = e.Json;
        cmd.ExecuteNonQuery();
    }

    private void ApplyProfileChanges(SqliteTransaction tx, ProfileChanges changes)
    {
        foreach (var (userId, (first, last)) in changes.Customers)
            Run(_customer!, tx, userId, first.ToUnixTimeMilliseconds(), last.ToUnixTimeMilliseconds());
        foreach (var ((subject, name), value) in changes.Traits)
            Run(_trait!, tx, subject, name, value.JsonValue, value.UpdatedAt.ToUnixTimeMilliseconds());
        foreach (var (id, (kind, userId, at)) in changes.Links)
            Run(_link!, tx, id, kind, userId, at.ToUnixTimeMilliseconds());
    }

    private static void Run(SqliteCommand cmd, SqliteTransaction tx, params object[] values)
    {
        cmd.Transaction = tx;
        for (var i = 0; i < values.Length; i++) cmd.Parameters[i].Value = values[i];
        cmd.ExecuteNonQuery();
    }

    private async ValueTask<SqliteConnection> WriterAsync(CancellationToken cancellationToken)
    {
        if (_writer is not null) return _writer;
        var writer = (SqliteConnection)await OpenAsync(cancellationToken);
        _dedupe = Prepare(writer, """
            INSERT INTO ingest_dedupe (message_id, expires_at) VALUES ($id, $expires)
            ON CONFLICT (message_id) DO UPDATE SET expires_at = excluded.expires_at WHERE ingest_dedupe.expires_at < $now
            """, "$id", "$expires", "$now");
        _insert = Prepare(writer, """
            INSERT INTO events (message_id, type, name, user_id, anonymous_id, timestamp, received_at, payload)
            VALUES ($m, $t, $n, $u, $a, $ts, $r, $p)
            """, "$m", "$t", "$n", "$u", "$a", "$ts", "$r", "$p");
        _customer = Prepare(writer, """
            INSERT INTO customers (user_id, first_seen, last_seen) VALUES ($u, $f, $l)
            ON CONFLICT (user_id) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)
            """, "$u", "$f", "$l");
        _trait = Prepare(writer, """
            INSERT INTO customer_traits (subject, name, value, updated_at) VALUES ($s, $n, $v, $t)
            ON CONFLICT (subject, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            WHERE excluded.updated_at >= customer_traits.updated_at
            """, "$s", "$n", "$v", "$t");
        _link = Prepare(writer, """
            INSERT INTO identities (identity, kind, user_id, linked_at) VALUES ($i, $k, $u, $t) ON CONFLICT (identity) DO NOTHING
            """, "$i", "$k", "$u", "$t");
        return _writer = writer;
    }

    private static SqliteCommand Prepare(SqliteConnection connection, string sql, params string[] parameters)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        foreach (var name in parameters) cmd.Parameters.Add(new SqliteParameter(name, null));
        return cmd;
    }

    public override async ValueTask DisposeAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            foreach (var cmd in new[] { _dedupe, _insert, _customer, _trait, _link }) cmd?.Dispose();
            if (_writer is not null) await _writer.DisposeAsync();
            _writer = null;
        }
        finally
        {
            _writeLock.Release();
        }

        _writeLock.Dispose();
    }
}
