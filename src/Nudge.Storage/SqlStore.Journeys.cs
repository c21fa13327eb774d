using System.Data.Common;
using Nudge.Engine.Journeys;

namespace Nudge.Storage;

public abstract partial class SqlStore
{
    public async Task<IReadOnlyList<StoredJourney>> LoadJourneysAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT id, version, json, source, created_at FROM journeys WHERE deleted_at IS NULL ORDER BY id, version");
        List<StoredJourney> journeys = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            journeys.Add(new StoredJourney(reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), FromMs(reader.GetInt64(4))));
        return journeys;
    }

    public async Task<(int Version, bool Created)> SaveJourneyAsync(string id, Func<int, string?> jsonFor, string source, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        var (connection, tx) = (write.Connection, write.Transaction);
        // Versions keep counting after a delete, so instances of a deleted journey never run on a new one.
        string? latestJson = null;
        var (latest, deleted) = (0, false);
        await using (var cmd = Command(connection, tx, $"SELECT version, json, deleted_at FROM journeys WHERE id = @id ORDER BY version DESC LIMIT 1{LockForUpdate}", ("id", id)))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken)) (latest, latestJson, deleted) = (reader.GetInt32(0), reader.GetString(1), !reader.IsDBNull(2));
        }

        var json = jsonFor(latest + 1);
        if (json is null) return (latest, false);
        // The same document saved again is not a new version. A file is compared with what it last
        // brought in: an unchanged file at a restart leaves later API edits (and deletes) in place.
        if (source == "api" ? !deleted && json == latestJson : json == await LastFromAsync(connection, tx, id, source, cancellationToken)) return (latest, false);
        await ExecuteAsync(connection, tx, "INSERT INTO journeys (id, version, json, source, created_at) VALUES (@id, @v, @json, @source, @at)", cancellationToken,
            ("id", id), ("v", latest + 1), ("json", json), ("source", source), ("at", at.ToUnixTimeMilliseconds()));
        await tx.CommitAsync(cancellationToken);
        return (latest + 1, true);
    }

    private static async Task<string?> LastFromAsync(DbConnection connection, DbTransaction tx, string id, string source, CancellationToken cancellationToken)
    {
        await using var cmd = Command(connection, tx, "SELECT json FROM journeys WHERE id = @id AND source = @source ORDER BY version DESC LIMIT 1", ("id", id), ("source", source));
        return await cmd.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task<bool> DeleteJourneyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken)
    {
        return await WriteAsync("UPDATE journeys SET deleted_at = @at WHERE id = @id AND deleted_at IS NULL", cancellationToken,
            ("at", at.ToUnixTimeMilliseconds()), ("id", id)) > 0;
    }

    public async Task<IReadOnlyList<JourneyCount>> JourneyCountsAsync(string journeyId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null,
            "SELECT version, kind, step, reason, count FROM journey_counts WHERE journey_id = @id ORDER BY version, kind, step, reason", ("id", journeyId));
        List<JourneyCount> counts = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            counts.Add(new JourneyCount(reader.GetInt32(0), reader.GetString(1), EmptyAsNull(reader.GetString(2)), EmptyAsNull(reader.GetString(3)), reader.GetInt64(4)));
        return counts;
    }

    public async Task<bool> AddStaffTaskAsync(StaffTask task, CancellationToken cancellationToken)
    {
        // Keyed by the step: a replayed step leaves one task.
        return await WriteAsync("""
            INSERT INTO staff_tasks (idempotency_key, customer_id, journey_id, step, title, note, queue, data, created_at)
            VALUES (@key, @c, @j, @s, @t, @n, @q, @d, @at) ON CONFLICT (idempotency_key) DO NOTHING
            """, cancellationToken, ("key", task.Key), ("c", task.CustomerId), ("j", task.JourneyId), ("s", task.Step), ("t", task.Title), ("n", task.Note),
            ("q", task.Queue), ("d", task.DataJson), ("at", task.CreatedAt.ToUnixTimeMilliseconds())) == 1;
    }

    public async Task<IReadOnlyList<StaffTask>> ListStaffTasksAsync(string? queue, bool openOnly, long? after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, $"""
            SELECT id, idempotency_key, customer_id, journey_id, step, title, note, queue, data, created_at, done_at, done_by FROM staff_tasks
            WHERE id > @after{(queue is null ? "" : " AND queue = @q")}{(openOnly ? " AND done_at IS NULL" : "")}
            ORDER BY id LIMIT @limit
            """, ("after", after ?? 0), ("q", queue), ("limit", limit));
        List<StaffTask> tasks = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) tasks.Add(ReadTask(reader));
        return tasks;
    }

    public async Task<StaffTask?> CompleteStaffTaskAsync(long id, string by, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await WriteAsync("UPDATE staff_tasks SET done_at = @at, done_by = @by WHERE id = @id AND done_at IS NULL", cancellationToken,
            ("at", at.ToUnixTimeMilliseconds()), ("by", by), ("id", id));
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null,
            "SELECT id, idempotency_key, customer_id, journey_id, step, title, note, queue, data, created_at, done_at, done_by FROM staff_tasks WHERE id = @id", ("id", id));
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadTask(reader) : null;
    }

    private static StaffTask ReadTask(DbDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
        NullableString(r, 6), r.GetString(7), NullableString(r, 8), FromMs(r.GetInt64(9)), r.IsDBNull(10) ? null : FromMs(r.GetInt64(10)), NullableString(r, 11));

    private static string? EmptyAsNull(string text) => text.Length == 0 ? null : text;

    /// <summary>
    /// Journey activity summed by what is counted (journey, version, kind, step, reason): the counts are
    /// kept in their own small table, one upsert per key per write-back instead of an index entry per row.
    /// </summary>
    protected static Dictionary<(string Journey, int Version, string Kind, string Step, string Reason), long> ActivityCounts(IReadOnlyList<CustomerStateWrite> writes)
    {
        Dictionary<(string, int, string, string, string), long> counts = [];
        foreach (var w in writes)
        {
            foreach (var a in w.Activity ?? [])
            {
                var key = (a.JourneyId, a.Version, a.Kind, a.Step ?? "", a.Reason ?? "");
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
        }

        return counts;
    }

    /// <summary>The upsert that adds to a journey count.</summary>
    protected const string CountUpsert = """
        INSERT INTO journey_counts (journey_id, version, kind, step, reason, count) VALUES (@j, @v, @k, @s, @r, @n)
        ON CONFLICT (journey_id, version, kind, step, reason) DO UPDATE SET count = journey_counts.count + excluded.count
        """;
}
