using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Nudge.Engine.Customers;
using Nudge.Engine.Events;
using Nudge.Engine.Messaging;

namespace Nudge.Storage.Sqlite;

/// <summary>
/// The embedded default: one SQLite file in WAL mode. Every write goes through one writer connection with
/// prepared statements; <c>synchronous=FULL</c> makes every commit durable before it returns, except a
/// customer-state write-back's, which the event log can always derive again.
/// </summary>
public sealed class SqliteStore : SqlStore
{
    private readonly string _connectionString;
    private readonly string _writerPragmas;
    private readonly bool _durable;
    private volatile bool _walSet;
    private readonly WriterLock _writeLock = new();
    private long _writerHeldTicks;
    private readonly SemaphoreSlim _opening = new(1, 1);
    private SqliteConnection? _writer;
    private Statement? _unsynced, _synced, _dedupe, _insert, _customer, _trait, _link, _state, _stateSameTimer, _changeLog, _enter, _leave, _retireState, _retireMembers, _meta, _consent, _messageUpdate, _messageLink, _history, _intent, _count, _touch;

    /// <summary>Opens (creating if needed) the file at <paramref name="path"/>.</summary>
    /// <param name="path">The database file.</param>
    /// <param name="durable">Whether each commit waits for the disk (<c>synchronous=FULL</c>), or only WAL checkpoints do (<c>NORMAL</c>).</param>
    public SqliteStore(string path, bool durable = true)
    {
        // The WAL grows to 64 MB between checkpoints: hot index pages are then copied back far less often.
        // The demo measured a sixth less time; the runtime bench's active phase, 61-66k events/s against
        // 51k with 1,000 pages (bench/README.md). The price is a longer stall for the append that runs a
        // checkpoint: the journeys bench's event-to-intent p99 at 10,000 events/s rose from 12-17 ms to
        // 31-33 ms (its target is 50 ms); the ingest bench's p99 at 20,000 events/s stayed at 15-18 ms.
        _writerPragmas = (durable ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;") + " PRAGMA wal_autocheckpoint=16384;";
        _durable = durable;
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

    /// <summary>
    /// How long the writer connection has been held since the store opened: every write queues for it,
    /// so this against the wall clock says how close writes are to what one SQLite file takes.
    /// </summary>
    public TimeSpan WriterHeld => System.Diagnostics.Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _writerHeldTicks));

    public override string Provider => "sqlite";

    protected override IReadOnlyList<Migration> Migrations => SqliteSchema.Migrations;

    protected override string ProductIdOfEvent => "CAST(json_extract(payload, '$.properties.product_id') AS TEXT)";

    protected override object MoneyValue(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    protected override string InTextList(string column, string parameter) => $"{column} IN (SELECT value FROM json_each({parameter}))";

    protected override object TextListValue(IReadOnlyCollection<string> values) => System.Text.Json.JsonSerializer.Serialize(values);

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        // Opens are serialized: Microsoft.Data.Sqlite's pool can hand one native connection to two
        // concurrent openers (dotnet/efcore#39008), which thousands of customer activations at once
        // trigger. Taking a pooled connection is microseconds, so the queue is short.
        await _opening.WaitAsync(cancellationToken);
        try
        {
            await connection.OpenAsync(cancellationToken);
        }
        finally
        {
            _opening.Release();
        }

        // WAL is a property of the file: set once, by the first connection. (Only the writer commits,
        // so only it needs the synchronous setting.)
        if (!_walSet)
        {
            using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA journal_mode=WAL;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
            _walSet = true;
        }

        return connection;
    }

    public override async Task<AppendResult> AppendAsync(IReadOnlyList<IncomingEvent> events, TimeSpan dedupeWindow, CancellationToken cancellationToken)
    {
        if (events.Count == 0) return default;
        var unique = FirstOfEachMessageId(events);
        await using var write = await BeginWriteAsync(first: true, cancellationToken);
        // Synchronous on purpose: the statements are raw SQLite calls, and Microsoft.Data.Sqlite has no truly async I/O.
        List<IncomingEvent> stored = new(unique.Count);
        foreach (var e in unique)
        {
            if (!IsNew(e, dedupeWindow)) continue;
            Insert(e);
            stored.Add(e);
        }

        ApplyProfileChanges(ProfileChanges.From(stored));
        write.Transaction.Commit();
        return new AppendResult(stored.Count, events.Count - stored.Count);
    }

    /// <summary>The customer runtime's write-back, through the same prepared statements path as appends.</summary>
    /// <summary>
    /// In the order of the rows in the file (by rowid, which a customer keeps from its first write),
    /// customers without a row yet last, by id. The rowids are looked up on a reader connection, without
    /// the writer.
    /// </summary>
    public override async Task<IReadOnlyList<CustomerStateWrite>> InWriteOrderAsync(IReadOnlyList<CustomerStateWrite> writes, CancellationToken cancellationToken)
    {
        if (writes.Count < 2) return writes;
        var placed = new (long Row, CustomerStateWrite Write)[writes.Count];
        for (var i = 0; i < writes.Count; i++) placed[i] = (long.MaxValue, writes[i]);
        // Looked up in id order, consecutive lookups walk the same pages of the primary key's index.
        Array.Sort(placed, static (a, b) => string.CompareOrdinal(a.Write.CustomerId, b.Write.CustomerId));
        await using (var connection = (SqliteConnection)await OpenAsync(cancellationToken))
        using (var find = new Statement(connection, "SELECT rowid FROM customer_state WHERE customer_id = ?1"))
        {
            for (var i = 0; i < placed.Length; i++)
            {
                find.Text(1, placed[i].Write.CustomerId);
                placed[i].Row = find.Int64Row() ?? long.MaxValue;
            }
        }

        Array.Sort(placed, static (a, b) => a.Row != b.Row ? a.Row.CompareTo(b.Row) : string.CompareOrdinal(a.Write.CustomerId, b.Write.CustomerId));
        return Array.ConvertAll(placed, p => p.Write);
    }

    public override async Task SaveStatesAsync(IReadOnlyList<CustomerStateWrite> writes, IReadOnlyList<CustomerTouch> touches, IReadOnlyDictionary<string, string>? meta, DateTimeOffset at,
        CancellationToken cancellationToken)
    {
        // Packed, merged and sorted before the writer is taken: other writers wait only for the statements.
        var interest = CustomerTouch.InKeyOrder(touches);
        var packed = writes.Select(w => (History: w.Activity is { Count: > 0 } a ? PackHistory(a) : default((long, string)?), Changes: w.Changes.Count > 0 ? PackChanges(w.Changes) : null)).ToList();
        // A write-back holds only what the durable event log derives again, so its commit does not wait
        // for the disk, even in a durable store. Lost to a power cut, it goes with every later commit (the
        // WAL keeps them in order), the checkpoint with it, and a replay writes it anew; the next commit
        // that waits (an event append) makes it durable too.
        await using var write = await BeginWriteAsync(cancellationToken, waitForDisk: false);
        var updatedAt = at.ToUnixTimeMilliseconds();
        for (var i = 0; i < writes.Count; i++)
        {
            var w = writes[i];
            if (packed[i].History is { } history) History(w.CustomerId, history);
            if (w.Retired)
            {
                _retireState!.Text(1, w.CustomerId);
                _retireState.Execute();
                _retireMembers!.Text(1, w.CustomerId);
                _retireMembers.Execute();
                continue;
            }

            // Most write-backs leave the durable timer as it is stored: updated without it, the row's
            // indexes are not touched. Compared with the stored value, not the grain's last one, since
            // quarantine clears the column behind the grain's back.
            if (StoreState(_stateSameTimer!, w, updatedAt) == 0) StoreState(_state!, w, updatedAt);
            if (packed[i].Changes is { } changes) Changes(w.CustomerId, changes, w.Changes);
        }

        foreach (var ((journey, version, kind, step, reason), n) in ActivityCounts(writes))
        {
            _count!.Text(1, journey);
            _count.Int64(2, version);
            _count.Text(3, kind);
            _count.Text(4, step);
            _count.Text(5, reason);
            _count.Int64(6, n);
            _count.Execute();
        }

        foreach (var (customer, t) in interest) Touch(customer, t);
        foreach (var (key, value) in meta ?? new Dictionary<string, string>())
        {
            _meta!.Text(1, key);
            _meta.Text(2, value);
            _meta.Execute();
        }

        write.Transaction.Commit();
    }

    private static int StoreState(Statement statement, CustomerStateWrite w, long updatedAt)
    {
        statement.Text(1, w.CustomerId);
        statement.Int64(2, w.Position);
        statement.Int64OrNull(3, w.NextCheckAt?.ToUnixTimeMilliseconds());
        statement.Blob(4, w.State);
        statement.Int64(5, updatedAt);
        return statement.Execute();
    }

    private void History(string customerId, (long At, string Entries) packed)
    {
        var (at, entries) = packed;
        _history!.Text(1, customerId);
        _history.Int64(2, at);
        _history.Text(3, entries);
        _history.Execute();
    }

    private void Touch(string customerId, ProductTouch t)
    {
        var (viewed, carted, wished) = TouchValues(t);
        _touch!.Text(1, t.ProductId);
        _touch.Text(2, customerId);
        _touch.Int64OrNull(3, viewed);
        _touch.Int64(4, carted);
        _touch.Int64(5, wished);
        _touch.Execute();
    }

    private void Changes(string customerId, string packed, IReadOnlyList<CustomerChange> changes)
    {
        _changeLog!.Text(1, customerId);
        _changeLog.Text(2, packed);
        _changeLog.Execute();
        foreach (var c in changes)
        {
            if (c.Kind == ChangeKinds.SegmentEntered)
            {
                _enter!.Text(1, c.Name);
                _enter.Text(2, customerId);
                _enter.Int64(3, c.At.ToUnixTimeMilliseconds());
                _enter.Execute();
            }
            else if (c.Kind == ChangeKinds.SegmentLeft)
            {
                _leave!.Text(1, c.Name);
                _leave.Text(2, customerId);
                _leave.Execute();
            }
        }
    }

    /// <summary>
    /// Each part reads a range of rowids on its own connection, handing SQLite's own copy of each
    /// state to the visitor: a million customers are read without a million byte arrays.
    /// </summary>
    public override async Task VisitStatesAsync(int partitions, Func<int, StateVisitor> visitorFor, CancellationToken cancellationToken)
    {
        long min, max;
        await using (var connection = await OpenAsync(cancellationToken))
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = "SELECT coalesce(min(rowid), 0), coalesce(max(rowid), 0) FROM customer_state";
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            (min, max) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        var parts = (int)Math.Clamp(partitions, 1, Math.Max(1, max - min + 1));
        var size = (max - min + parts) / parts;
        await Task.WhenAll(Enumerable.Range(0, parts).Select(part => Task.Run(async () =>
        {
            var visit = visitorFor(part);
            await using var connection = (SqliteConnection)await OpenAsync(cancellationToken);
            using var range = new Statement(connection, "SELECT state FROM customer_state WHERE rowid >= ?1 AND rowid < ?2");
            range.Int64(1, min + part * size);
            range.Int64(2, part == parts - 1 ? max + 1 : min + (part + 1) * size);
            range.ForEachBlob(visit, cancellationToken);
        }, cancellationToken)));
    }

    private bool IsNew(IncomingEvent e, TimeSpan window)
    {
        var s = _dedupe!;
        s.Text(1, e.MessageId);
        s.Int64(2, DedupeExpiry(e.ReceivedAt, window));
        s.Int64(3, e.ReceivedAt.ToUnixTimeMilliseconds());
        // 1 row: first sighting, or the previous one's window has ended. 0 rows: a duplicate.
        return s.Execute() == 1;
    }

    private void Insert(IncomingEvent e)
    {
        var s = _insert!;
        s.Text(1, e.MessageId);
        s.Text(2, e.Type.ToWire());
        s.Text(3, e.Name);
        s.Text(4, e.UserId);
        s.Text(5, e.AnonymousId);
        s.Int64(6, e.Timestamp.ToUnixTimeMilliseconds());
        s.Int64(7, e.ReceivedAt.ToUnixTimeMilliseconds());
        s.Utf8(8, e.Utf8Json.Span);
        s.Execute();
    }

    private void ApplyProfileChanges(ProfileChanges changes)
    {
        foreach (var (userId, (first, last)) in changes.Customers)
        {
            _customer!.Text(1, userId);
            _customer.Int64(2, first.ToUnixTimeMilliseconds());
            _customer.Int64(3, last.ToUnixTimeMilliseconds());
            _customer.Execute();
        }

        foreach (var ((subject, name), value) in changes.Traits)
        {
            _trait!.Text(1, subject);
            _trait.Text(2, name);
            _trait.Text(3, value.JsonValue);
            _trait.Int64(4, value.UpdatedAt.ToUnixTimeMilliseconds());
            _trait.Execute();
        }

        foreach (var c in changes.Consents)
        {
            _consent!.Text(1, c.Subject);
            _consent.Text(2, c.Channel);
            _consent.Text(3, c.Topic);
            _consent.Int64(4, c.Granted ? 1 : 0);
            _consent.Text(5, c.Source);
            _consent.Int64(6, c.At.ToUnixTimeMilliseconds());
            _consent.Execute();
        }

        foreach (var (id, (kind, userId, at)) in changes.Links)
        {
            _link!.Text(1, id);
            _link.Text(2, kind);
            _link.Text(3, userId);
            _link.Int64(4, at.ToUnixTimeMilliseconds());
            _link.Execute();
        }
    }

    /// <summary>The writer connection's <c>synchronous</c> setting between writes: 2 (FULL) when durable, else 1 (NORMAL).</summary>
    internal async Task<long> WriterSynchronousAsync(CancellationToken cancellationToken)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        await using var command = write.Connection.CreateCommand();
        command.Transaction = write.Transaction;
        command.CommandText = "PRAGMA synchronous";
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Every write goes through the one writer connection, one at a time (see <see cref="SqlStore.BeginWriteAsync"/>).</summary>
    protected override ValueTask<WriteScope> BeginWriteAsync(CancellationToken cancellationToken, bool waitForDisk = true) => BeginWriteAsync(first: false, cancellationToken, waitForDisk);

    /// <summary>
    /// Takes the writer connection; <paramref name="first"/> (appends to the event log) goes before other
    /// waiting writes. Without <paramref name="waitForDisk"/>, a durable store's commit returns before the
    /// disk has it (SQLite allows the change only outside a transaction, so it is made and undone around it).
    /// </summary>
    private async ValueTask<WriteScope> BeginWriteAsync(bool first, CancellationToken cancellationToken, bool waitForDisk = true)
    {
        await _writeLock.EnterAsync(first, cancellationToken);
        var held = System.Diagnostics.Stopwatch.GetTimestamp();
        var relaxed = false;
        try
        {
            var writer = await WriterAsync(cancellationToken);
            if (_durable && !waitForDisk)
            {
                _unsynced!.Execute();
                relaxed = true;
            }

            return new WriteScope(writer, writer.BeginTransaction(), () =>
            {
                try
                {
                    if (relaxed) _synced!.Execute();
                }
                finally
                {
                    Interlocked.Add(ref _writerHeldTicks, System.Diagnostics.Stopwatch.GetTimestamp() - held);
                    _writeLock.Exit();
                }

                return ValueTask.CompletedTask;
            });
        }
        catch
        {
            if (relaxed) _synced!.Execute();
            _writeLock.Exit();
            throw;
        }
    }

    private async ValueTask<SqliteConnection> WriterAsync(CancellationToken cancellationToken)
    {
        if (_writer is not null) return _writer;
        var writer = (SqliteConnection)await OpenAsync(cancellationToken);
        using (var pragma = writer.CreateCommand())
        {
            // 32 MB of page cache keeps the hot index pages of the log in memory. Checkpoints stay SQLite's
            // own (every 16,384 pages, inside a commit). A checkpointer on a second connection spared the
            // appends that stall, but measured no better end to end (bench/README.md).
            pragma.CommandText = $"PRAGMA cache_size=-32768; {_writerPragmas}";
            pragma.ExecuteNonQuery();
        }
        _messageUpdate = new Statement(writer, SqlStore.MessageUpdateSql.Replace("@status", "?1").Replace("@reason", "?2").Replace("@due", "?3")
            .Replace("@channel", "?4").Replace("@recipient", "?5").Replace("@sent", "?6").Replace("@attempts", "?7").Replace("@provider", "?8")
            .Replace("@locale", "?9").Replace("@subject", "?10").Replace("@now", "?11").Replace("@id", "?12"));
        _messageLink = new Statement(writer, "INSERT INTO message_links (message_id, link, url) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING");
        _consent = new Statement(writer, "INSERT INTO consent_ledger (subject, channel, topic, granted, source, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        _dedupe = new Statement(writer, """
            INSERT INTO ingest_dedupe (message_id, expires_at) VALUES (?1, ?2)
            ON CONFLICT (message_id) DO UPDATE SET expires_at = excluded.expires_at WHERE ingest_dedupe.expires_at < ?3
            """);
        _insert = new Statement(writer, """
            INSERT INTO events (message_id, type, name, user_id, anonymous_id, timestamp, received_at, payload)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
            """);
        _customer = new Statement(writer, """
            INSERT INTO customers (user_id, first_seen, last_seen) VALUES (?1, ?2, ?3)
            ON CONFLICT (user_id) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)
            """);
        _trait = new Statement(writer, """
            INSERT INTO customer_traits (subject, name, value, updated_at) VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT (subject, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            WHERE excluded.updated_at >= customer_traits.updated_at
            """);
        _link = new Statement(writer, """
            INSERT INTO identities (identity, kind, user_id, linked_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (identity) DO NOTHING
            """);
        if (_durable)
        {
            // SQLite may apply this pragma when it is prepared as well as when it runs: the one that leaves
            // the durable setting in force is prepared last.
            _unsynced = new Statement(writer, "PRAGMA synchronous=NORMAL");
            _synced = new Statement(writer, "PRAGMA synchronous=FULL");
        }

        _state = new Statement(writer, """
            INSERT INTO customer_state (customer_id, position, next_check_at, state, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT (customer_id) DO UPDATE SET position = excluded.position, next_check_at = excluded.next_check_at, state = excluded.state, updated_at = excluded.updated_at
            """);
        _stateSameTimer = new Statement(writer,
            "UPDATE customer_state SET position = ?2, state = ?4, updated_at = ?5 WHERE customer_id = ?1 AND next_check_at IS ?3");
        _changeLog = new Statement(writer, ChangeLogInsert.Replace("@c", "?1").Replace("@e", "?2"));
        _enter = new Statement(writer, "INSERT INTO segment_members (segment_id, customer_id, since) VALUES (?1, ?2, ?3) ON CONFLICT (segment_id, customer_id) DO UPDATE SET since = excluded.since");
        _leave = new Statement(writer, "DELETE FROM segment_members WHERE segment_id = ?1 AND customer_id = ?2");
        _retireState = new Statement(writer, "DELETE FROM customer_state WHERE customer_id = ?1");
        _retireMembers = new Statement(writer, "DELETE FROM segment_members WHERE customer_id = ?1");
        _count = new Statement(writer, CountUpsert.Replace("@j", "?1").Replace("@v", "?2").Replace("@k", "?3").Replace("@s", "?4").Replace("@r", "?5").Replace("@n", "?6"));
        _intent = new Statement(writer, $"""
            INSERT INTO messages (idempotency_key, customer_id, requested_channel, topic, template_id, data, coupon_campaign, source,
              status, attempts, due_at, created_at, updated_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, '{MessageStatus.Queued}', 0, ?9, ?9, ?9)
            ON CONFLICT (idempotency_key) DO NOTHING
            """);
        _history = new Statement(writer, HistoryInsert.Replace("@c", "?1").Replace("@at", "?2").Replace("@e", "?3"));
        _touch = new Statement(writer, TouchUpsert.Replace("@p", "?1").Replace("@ca", "?4").Replace("@c", "?2").Replace("@v", "?3").Replace("@w", "?5"));
        _meta = new Statement(writer, "INSERT INTO runtime_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
        return _writer = writer;
    }

    /// <summary>Journey intents, through a prepared statement on the writer connection.</summary>
    public override async Task<IReadOnlyList<bool>> EnqueueMessagesAsync(IReadOnlyList<MessageIntent> intents, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var created = new bool[intents.Count];
        if (intents.Count == 0) return created;
        await using var write = await BeginWriteAsync(cancellationToken);
        var at = now.ToUnixTimeMilliseconds();
        for (var i = 0; i < intents.Count; i++)
        {
            var intent = intents[i];
            var s = _intent!;
            s.Text(1, intent.IdempotencyKey);
            s.Text(2, intent.CustomerId);
            s.Text(3, intent.Channel);
            s.Text(4, intent.Topic);
            s.Text(5, intent.TemplateId);
            s.Text(6, intent.DataJson);
            s.Text(7, intent.CouponCampaign);
            s.Text(8, intent.Source);
            s.Int64(9, at);
            created[i] = s.Execute() == 1;
        }

        write.Transaction.Commit();
        return created;
    }

    /// <summary>Delivery's decisions and outcomes, through prepared statements on the writer connection.</summary>
    public override async Task UpdateMessagesAsync(IReadOnlyList<MessageUpdate> updates, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (updates.Count == 0) return;
        await using var write = await BeginWriteAsync(cancellationToken);
        var at = now.ToUnixTimeMilliseconds();
        foreach (var u in updates)
        {
            var s = _messageUpdate!;
            s.Text(1, u.Status);
            s.Text(2, u.Reason);
            s.Int64OrNull(3, u.DueAt?.ToUnixTimeMilliseconds());
            s.Text(4, u.Channel);
            s.Text(5, u.Recipient);
            s.Int64OrNull(6, u.SentAt?.ToUnixTimeMilliseconds());
            s.Int64OrNull(7, u.Attempts);
            s.Text(8, u.ProviderId);
            s.Text(9, u.Locale);
            s.Text(10, u.Subject);
            s.Int64(11, at);
            s.Int64(12, u.Id);
            s.Execute();
            for (var i = 0; i < (u.Links?.Count ?? 0); i++)
            {
                _messageLink!.Int64(1, u.Id);
                _messageLink.Int64(2, i);
                _messageLink.Text(3, u.Links![i]);
                _messageLink.Execute();
            }
        }

        write.Transaction.Commit();
    }

    /// <summary>
    /// A statement prepared once on the writer connection and bound by position. The append path
    /// runs these per event; SqliteCommand's per-execution reader and name lookups cost more than the
    /// insert itself.
    /// </summary>
    private sealed class Statement : IDisposable
    {
        private const int Done = 101; // SQLITE_DONE
        private readonly sqlite3 _db;
        private readonly sqlite3_stmt _stmt;

        public Statement(SqliteConnection connection, string sql)
        {
            _db = connection.Handle!;
            Check(raw.sqlite3_prepare_v2(_db, sql, out _stmt));
        }

        private byte[] _utf8 = new byte[256];

        /// <summary>Binds text through one reused UTF-8 buffer (SQLite copies it), not a new array per value.</summary>
        public void Text(int index, string? value)
        {
            if (value is null)
            {
                Check(raw.sqlite3_bind_null(_stmt, index));
                return;
            }

            var max = Encoding.UTF8.GetMaxByteCount(value.Length);
            if (max > _utf8.Length) _utf8 = new byte[Math.Max(max, 2 * _utf8.Length)];
            Utf8(index, _utf8.AsSpan(0, Encoding.UTF8.GetBytes(value, _utf8)));
        }

        /// <summary>Binds UTF-8 text as it is: no transcoding, and SQLite copies it.</summary>
        public void Utf8(int index, ReadOnlySpan<byte> value) => Check(raw.sqlite3_bind_text(_stmt, index, value));

        public void Int64(int index, long value) => Check(raw.sqlite3_bind_int64(_stmt, index, value));

        public void Int64OrNull(int index, long? value) => Check(value is { } v ? raw.sqlite3_bind_int64(_stmt, index, v) : raw.sqlite3_bind_null(_stmt, index));

        public void Blob(int index, ReadOnlySpan<byte> value) => Check(raw.sqlite3_bind_blob(_stmt, index, value));

        /// <summary>Steps through the rows, handing the first column (a blob) to <paramref name="visit"/> without copying it.</summary>
        public void ForEachBlob(StateVisitor visit, CancellationToken cancellationToken)
        {
            try
            {
                int rc;
                while ((rc = raw.sqlite3_step(_stmt)) == Row)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    visit(raw.sqlite3_column_blob(_stmt, 0));
                }

                if (rc != Done) throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), rc);
            }
            finally
            {
                raw.sqlite3_reset(_stmt);
            }
        }

        private const int Row = 100; // SQLITE_ROW

        /// <summary>Runs a query of one number and returns it, or null when there is no row.</summary>
        public long? Int64Row()
        {
            try
            {
                var rc = raw.sqlite3_step(_stmt);
                if (rc == Row) return raw.sqlite3_column_int64(_stmt, 0);
                if (rc != Done) throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), rc);
                return null;
            }
            finally
            {
                raw.sqlite3_reset(_stmt);
            }
        }

        /// <summary>Runs the statement and returns the rows it changed.</summary>
        public int Execute()
        {
            var rc = raw.sqlite3_step(_stmt);
            raw.sqlite3_reset(_stmt);
            if (rc != Done) throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), rc);
            return raw.sqlite3_changes(_db);
        }

        private void Check(int rc)
        {
            if (rc != raw.SQLITE_OK) throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), rc);
        }

        public void Dispose() => _stmt.Dispose();
    }

    public override async ValueTask DisposeAsync()
    {
        await _writeLock.EnterAsync(first: false, CancellationToken.None);
        try
        {
            foreach (var cmd in new[] { _unsynced, _synced, _dedupe, _insert, _customer, _trait, _link, _state, _stateSameTimer, _changeLog, _enter, _leave, _retireState, _retireMembers, _meta, _consent, _messageUpdate, _messageLink, _history, _intent, _count, _touch }) cmd?.Dispose();
            if (_writer is not null) await _writer.DisposeAsync();
            _writer = null;
        }
        finally
        {
            _writeLock.Exit();
        }

        _opening.Dispose();
    }
}
