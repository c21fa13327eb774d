using System.Text.Json;
using Nudge.Engine.Customers;

namespace Nudge.Storage;

/// <summary>
/// Each customer's history of tag, stage, RFM and segment changes: the changes of one state write-back
/// are packed into one row (a JSON array), so a write-back adds one row and one index entry per
/// customer instead of one per change. The per-customer history is the only reader.
/// </summary>
public abstract partial class SqlStore
{
    /// <summary>Inserts one packed write-back of a customer's changes.</summary>
    protected const string ChangeLogInsert = "INSERT INTO customer_change_log (customer_id, changes) VALUES (@c, @e)";

    /// <summary>The changes as one row: <c>[kind, name, value, previous, at]</c> arrays, oldest first.</summary>
    protected static string PackChanges(IReadOnlyList<CustomerChange> changes) => PackRows(changes, static (json, c) =>
    {
        json.WriteStringValue(c.Kind);
        json.WriteStringValue(c.Name);
        json.WriteStringValue(c.Value);
        json.WriteStringValue(c.Previous);
        json.WriteNumberValue(c.At.ToUnixTimeMilliseconds());
    });

    public async Task<IReadOnlyList<CustomerChange>> CustomerChangesAsync(string customerId, int limit, CancellationToken cancellationToken)
    {
        List<CustomerChange> changes = [];
        if (limit <= 0) return changes;
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT changes FROM customer_change_log WHERE customer_id = @c ORDER BY id DESC", ("c", customerId));
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        // Newest first: the latest row first, and the last change of each row first.
        while (changes.Count < limit && await reader.ReadAsync(cancellationToken))
        {
            using var doc = JsonDocument.Parse(reader.GetString(0));
            foreach (var c in doc.RootElement.EnumerateArray().Reverse())
            {
                changes.Add(new CustomerChange(c[0].GetString()!, c[1].GetString()!, c[2].GetString(), c[3].GetString(), FromMs(c[4].GetInt64())));
                if (changes.Count == limit) break;
            }
        }

        return changes;
    }
}
