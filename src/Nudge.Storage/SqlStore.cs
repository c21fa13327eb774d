using System.Data.Common;
using System.Globalization;
using Nudge.Engine.Events;

namespace Nudge.Storage;

/// <summary>
/// What SQLite and PostgreSQL share: the schema's shape, migrations, and every query whose SQL is the
/// same in both. Each provider adds its own bulk append and the few dialect differences.
/// </summary>
public abstract partial class SqlStore : INudgeStore
{
    public abstract string Provider { get; }

    /// <summary>The provider's migrations, in version order.</summary>
    protected abstract IReadOnlyList<Migration> Migrations { get; }

    /// <summary>An open connection for one unit of work.</summary>
    protected abstract ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// A write transaction on a connection of its own. SQLite overrides this to hand out its single
    /// writer connection under the write lock: writers then queue in memory, instead of two
    /// connections meeting SQLITE_BUSY, which Microsoft.Data.Sqlite answers by sleeping and retrying.
    /// Without <paramref name="waitForDisk"/>, its commit returns before the disk has it: only for writes
    /// the durable event log can derive again.
    /// </summary>
    protected virtual async ValueTask<WriteScope> BeginWriteAsync(CancellationToken cancellationToken, bool waitForDisk = true)
    {
        var connection = await OpenAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            if (!waitForDisk && CommitWithoutWaitingForTheDisk is { } relax) await ExecuteAsync(connection, transaction, relax, cancellationToken);
            return new WriteScope(connection, transaction, connection.DisposeAsync);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>One statement in a write transaction of its own; returns the rows it changed.</summary>
    protected async Task<int> WriteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        var changed = await ExecuteAsync(write.Connection, write.Transaction, sql, cancellationToken, parameters);
        await write.Transaction.CommitAsync(cancellationToken);
        return changed;
    }

    /// <summary>
    /// Appended to a SELECT inside a write transaction to lock the rows read until commit; empty where
    /// the transaction already excludes other writers (SQLite's BEGIN IMMEDIATE).
    /// </summary>
    protected virtual string LockForUpdate => "";

    /// <summary>Statement that makes concurrent migrations wait for each other, or null where one file has one writer.</summary>
    protected virtual string? MigrationLock => null;

    /// <summary>Statement that releases <see cref="MigrationLock"/>.</summary>
    protected virtual string? MigrationUnlock => null;

    /// <summary>A statement that lets the current transaction commit without waiting for the disk (<c>waitForDisk: false</c>), or null.</summary>
    protected virtual string? CommitWithoutWaitingForTheDisk => null;

    /// <summary>A money parameter value in the provider's column type.</summary>
    protected abstract object MoneyValue(decimal value);

    /// <summary>
    /// SQL testing a column against a list of texts passed as one parameter (see <see cref="TextListValue"/>).
    /// One parameter, not one per value: binding hundreds of named parameters costs a search of the
    /// statement's parameter names for each, which made delivery's customer lookups quadratic.
    /// </summary>
    protected abstract string InTextList(string column, string parameter);

    /// <summary>The parameter value for <see cref="InTextList"/>.</summary>
    protected abstract object TextListValue(IReadOnlyCollection<string> values);

    /// <summary>SQL for the <c>product_id</c> property of an event's payload, as text (catalog triggers match it in the log past the runtime's checkpoint).</summary>
    protected abstract string ProductIdOfEvent { get; }

    public abstract Task<AppendResult> AppendAsync(IReadOnlyList<IncomingEvent> events, TimeSpan dedupeWindow, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // Several nodes may start at once against one PostgreSQL: one migrates, the others wait and find it done.
        if (MigrationLock is { } take) await ExecuteAsync(connection, null, take, cancellationToken);
        try
        {
            return await MigrateAsync(connection, cancellationToken);
        }
        finally
        {
            if (MigrationUnlock is { } release) await ExecuteAsync(connection, null, release, CancellationToken.None);
        }
    }

    private async Task<IReadOnlyList<string>> MigrateAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, null, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)", cancellationToken);
        var applied = new HashSet<long>();
        await using (var cmd = Command(connection, null, "SELECT version FROM schema_migrations"))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) applied.Add(reader.GetInt64(0));
        }

        List<string> done = [];
        foreach (var migration in Migrations.Where(m => !applied.Contains(m.Version)).OrderBy(m => m.Version))
        {
            // One transaction per migration: a failure leaves the store at the previous version.
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            foreach (var statement in migration.Sql.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                await ExecuteAsync(connection, tx, statement, cancellationToken);
            await ExecuteAsync(connection, tx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @t)", cancellationToken,
                ("v", migration.Version), ("n", migration.Name), ("t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            await tx.CommitAsync(cancellationToken);
            done.Add($"{migration.Version:D3} {migration.Name}");
        }

        return done;
    }

    public async Task<int> PruneDedupeAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await WriteAsync("DELETE FROM ingest_dedupe WHERE expires_at < @now", cancellationToken, ("now", now.ToUnixTimeMilliseconds()));
    }

    public async Task<long> LastPositionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT COALESCE(MAX(position), 0) FROM events");
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task<long> CountEventsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT COUNT(*) FROM events");
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadLogAsync(long after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, $"SELECT {EventColumns} FROM events WHERE position > @after ORDER BY position LIMIT @limit",
            ("after", after), ("limit", limit));
        return await ReadEventsAsync(cmd, cancellationToken);
    }

    public async Task<string?> GetKeyHashAsync(string kind, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT hash FROM api_keys WHERE kind = @kind", ("kind", kind));
        return await cmd.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task SetKeyHashAsync(string kind, string hash, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await WriteAsync(
            "INSERT INTO api_keys (kind, hash, created_at) VALUES (@kind, @hash, @at) ON CONFLICT (kind) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at",
            cancellationToken, ("kind", kind), ("hash", hash), ("at", at.ToUnixTimeMilliseconds()));
    }

    protected const string EventColumns = "position, message_id, type, name, user_id, anonymous_id, timestamp, received_at, payload";

    protected const string PrefixedEventColumns = "e.position, e.message_id, e.type, e.name, e.user_id, e.anonymous_id, e.timestamp, e.received_at, e.payload";

    protected static async Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(DbCommand cmd, CancellationToken cancellationToken)
    {
        List<StoredEvent> events = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) events.Add(ReadEvent(reader));
        return events;
    }

    /// <summary>Reads the <see cref="EventColumns"/> of the current row.</summary>
    protected static StoredEvent ReadEvent(DbDataReader reader)
    {
        if (!EventTypes.TryParse(reader.GetString(2), out var type))
            throw new InvalidDataException($"Event at position {reader.GetInt64(0)} has unknown type '{reader.GetString(2)}'.");
        return new StoredEvent(
            reader.GetInt64(0), reader.GetString(1), type, NullableString(reader, 3), NullableString(reader, 4), NullableString(reader, 5),
            FromMs(reader.GetInt64(6)), FromMs(reader.GetInt64(7)), reader.GetString(8));
    }

    protected static DbCommand Command(DbConnection connection, DbTransaction? tx, string sql, params (string Name, object? Value)[] parameters)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (name, value) in parameters)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }

        return cmd;
    }

    protected static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? tx, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var cmd = Command(connection, tx, sql, parameters);
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    protected static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    protected static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    /// <summary>The dedupe expiry of a message id received at <paramref name="receivedAt"/>; "for ever" saturates instead of overflowing.</summary>
    protected static long DedupeExpiry(DateTimeOffset receivedAt, TimeSpan window)
    {
        var from = receivedAt.ToUnixTimeMilliseconds();
        var ms = window.TotalMilliseconds;
        return ms >= long.MaxValue - from ? long.MaxValue : from + (long)ms;
    }

    /// <summary>
    /// Drops later copies of a message id inside one append: the first copy is the one stored, and a
    /// statement never touches the same dedupe row twice.
    /// </summary>
    protected static List<IncomingEvent> FirstOfEachMessageId(IReadOnlyList<IncomingEvent> events)
    {
        var seen = new HashSet<string>(events.Count, StringComparer.Ordinal);
        List<IncomingEvent> unique = new(events.Count);
        foreach (var e in events)
            if (seen.Add(e.MessageId)) unique.Add(e);
        return unique;
    }
}
