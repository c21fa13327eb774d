using System.Buffers;
using System.Data.Common;
using System.Text;
using System.Text.Json;
using Nudge.Engine.Journeys;

namespace Nudge.Storage;

/// <summary>
/// Each customer's journey history: the activity of one state write-back is packed into one row (a JSON
/// array of entries) under the customer and its latest time. One row and one index entry per write,
/// instead of one per entry, keeps the history off the writer's critical path; the per-customer history
/// is the only reader, and the counts are kept apart (<see cref="ActivityCounts"/>).
/// </summary>
public abstract partial class SqlStore
{
    /// <summary>Inserts one packed write-back of a customer's journey activity.</summary>
    protected const string HistoryInsert = "INSERT INTO journey_history (customer_id, at, entries) VALUES (@c, @at, @e)";

    /// <summary>The activity as one row: its latest time, and the entries as <c>[journey, version, instance, kind, step, reason, at]</c> arrays.</summary>
    protected static (long At, string Entries) PackHistory(IReadOnlyList<JourneyActivity> activity) =>
        (activity.Max(a => a.At).ToUnixTimeMilliseconds(), PackRows(activity, static (json, a) =>
        {
            json.WriteStringValue(a.JourneyId);
            json.WriteNumberValue(a.Version);
            json.WriteNumberValue(a.Instance);
            json.WriteStringValue(a.Kind);
            json.WriteStringValue(a.Step);
            json.WriteStringValue(a.Reason);
            json.WriteNumberValue(a.At.ToUnixTimeMilliseconds());
        }));

    /// <summary>Rows packed as one JSON array of arrays, each written by <paramref name="write"/>: how the per-customer histories are stored.</summary>
    protected static string PackRows<T>(IReadOnlyList<T> rows, Action<Utf8JsonWriter, T> write)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * rows.Count);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var row in rows)
            {
                json.WriteStartArray();
                write(json, row);
                json.WriteEndArray();
            }

            json.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static async Task WriteHistoryAsync(DbCommand insert, string customerId, IReadOnlyList<JourneyActivity> activity, CancellationToken cancellationToken)
    {
        var (at, entries) = PackHistory(activity);
        Set(insert, ("c", customerId), ("at", at), ("e", entries));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<JourneyHistoryEntry>> CustomerJourneysAsync(string customerId, int limit, CancellationToken cancellationToken)
    {
        if (limit <= 0) return [];
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT id, at, entries FROM journey_history WHERE customer_id = @c ORDER BY at DESC, id DESC", ("c", customerId));
        // Rows come by their latest entry, newest first; entries of different rows may interleave in time,
        // so rows are read until the next one's latest entry is older than the limit-th newest found so far.
        List<(JourneyHistoryEntry Entry, long Row, int Index)> found = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (found.Count >= limit && FromMs(reader.GetInt64(1)) < Newest(found, limit)[^1].Entry.At) break;
            var row = reader.GetInt64(0);
            using var doc = JsonDocument.Parse(reader.GetString(2));
            var index = 0;
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                found.Add((new JourneyHistoryEntry(e[0].GetString()!, e[1].GetInt32(), e[2].GetInt64(), e[3].GetString()!, e[4].GetString(), e[5].GetString(),
                    FromMs(e[6].GetInt64())), row, index++));
            }
        }

        return [.. Newest(found, limit).Select(f => f.Entry)];
    }

    /// <summary>Newest first; among entries of the same time, the one written later (a later row, or later in its row) first.</summary>
    private static List<(JourneyHistoryEntry Entry, long Row, int Index)> Newest(List<(JourneyHistoryEntry Entry, long Row, int Index)> found, int limit) =>
        [.. found.OrderByDescending(f => f.Entry.At).ThenByDescending(f => f.Row).ThenByDescending(f => f.Index).Take(limit)];
}
