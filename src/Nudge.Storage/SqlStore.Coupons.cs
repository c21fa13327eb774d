using System.Data.Common;
using System.Globalization;

namespace Nudge.Storage;

public abstract partial class SqlStore
{
    private const string CouponColumns = "code, campaign_id, customer_id, message_id, issued_at, expires_at, redeemed_at, order_id, revenue_minor";

    public async Task PutCouponCampaignAsync(string id, string json, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await WriteAsync("""
            INSERT INTO coupon_campaigns (id, json, updated_at) VALUES (@id, @json, @at)
            ON CONFLICT (id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at
            """, cancellationToken, ("id", id), ("json", json), ("at", at.ToUnixTimeMilliseconds()));
    }

    public async Task<IReadOnlyList<(string Id, string Json)>> LoadCouponCampaignsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT id, json FROM coupon_campaigns ORDER BY id");
        List<(string, string)> campaigns = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) campaigns.Add((reader.GetString(0), reader.GetString(1)));
        return campaigns;
    }

    public async Task<int> AddCouponCodesAsync(string campaignId, IReadOnlyList<string> codes, CancellationToken cancellationToken)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        var (connection, tx) = (write.Connection, write.Transaction);
        await using var insert = Command(connection, tx, "INSERT INTO coupon_codes (code, campaign_id) VALUES (@code, @campaign) ON CONFLICT (code) DO NOTHING",
            ("code", ""), ("campaign", campaignId));
        var added = 0;
        foreach (var code in codes)
        {
            insert.Parameters["code"].Value = code;
            added += await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
        return added;
    }

    public async Task<CouponIssued> IssueCouponAsync(CouponIssue issue, CancellationToken cancellationToken)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        var (connection, tx) = (write.Connection, write.Transaction);
        // One code per message: a retried or re-rendered message shows the code it was given first.
        if (issue.MessageId is { } messageId)
        {
            await using var existing = Command(connection, tx, $"SELECT {CouponColumns} FROM coupon_codes WHERE message_id = @m", ("m", messageId));
            if ((await ReadCouponsAsync(existing, cancellationToken)).FirstOrDefault() is { } given) return new CouponIssued(given, null);
        }

        if (issue.IssueKey is { } key)
        {
            await using var existing = Command(connection, tx, $"SELECT {CouponColumns} FROM coupon_codes WHERE issue_key = @k", ("k", key));
            if ((await ReadCouponsAsync(existing, cancellationToken)).FirstOrDefault() is { } given) return new CouponIssued(given, null);
        }

        await using (var count = Command(connection, tx, "SELECT COUNT(*) FROM coupon_codes WHERE campaign_id = @c AND customer_id = @u", ("c", issue.CampaignId), ("u", issue.CustomerId)))
        {
            if (Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) >= issue.PerCustomer) return new CouponIssued(null, "limit");
        }

        var at = issue.IssuedAt.ToUnixTimeMilliseconds();
        var expires = issue.ExpiresAt?.ToUnixTimeMilliseconds();
        DbCommand take = issue.GeneratedCode is { } code
            ? Command(connection, tx, $"""
                INSERT INTO coupon_codes (code, campaign_id, customer_id, message_id, issued_at, expires_at, issue_key) VALUES (@code, @c, @u, @m, @at, @exp, @k)
                RETURNING {CouponColumns}
                """, ("code", code), ("c", issue.CampaignId), ("u", issue.CustomerId), ("m", issue.MessageId), ("at", at), ("exp", expires), ("k", issue.IssueKey))
            : Command(connection, tx, $"""
                UPDATE coupon_codes SET customer_id = @u, message_id = @m, issued_at = @at, expires_at = @exp, issue_key = @k
                WHERE code = (SELECT code FROM coupon_codes WHERE campaign_id = @c AND customer_id IS NULL ORDER BY code LIMIT 1{SkipLocked})
                RETURNING {CouponColumns}
                """, ("u", issue.CustomerId), ("m", issue.MessageId), ("at", at), ("exp", expires), ("c", issue.CampaignId), ("k", issue.IssueKey));
        await using (take)
        {
            var issued = (await ReadCouponsAsync(take, cancellationToken)).FirstOrDefault();
            if (issued is null) return new CouponIssued(null, "pool_empty");
            await tx.CommitAsync(cancellationToken);
            return new CouponIssued(issued, null);
        }
    }

    public async Task<bool> RedeemCouponAsync(string code, string orderId, decimal revenue, DateTimeOffset at, CancellationToken cancellationToken)
    {
        // The first order to use a code redeems it; a replayed or second order changes nothing.
        return await WriteAsync("""
            UPDATE coupon_codes SET redeemed_at = @at, order_id = @order, revenue_minor = @revenue
            WHERE code = @code AND redeemed_at IS NULL AND customer_id IS NOT NULL
            """, cancellationToken, ("at", at.ToUnixTimeMilliseconds()), ("order", orderId), ("revenue", (long)Math.Round(revenue * 100)), ("code", code)) == 1;
    }

    public async Task<CouponStats> CouponStatsAsync(string campaignId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, """
            SELECT COUNT(customer_id), COUNT(redeemed_at), COALESCE(SUM(revenue_minor), 0), COUNT(*) - COUNT(customer_id)
            FROM coupon_codes WHERE campaign_id = @c
            """, ("c", campaignId));
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new CouponStats(reader.GetInt64(0), reader.GetInt64(1), Convert.ToDecimal(reader.GetValue(2), CultureInfo.InvariantCulture) / 100m, reader.GetInt64(3));
    }

    public async Task<IReadOnlyList<CouponCode>> CustomerCouponsAsync(string customerId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, $"SELECT {CouponColumns} FROM coupon_codes WHERE customer_id = @u ORDER BY issued_at", ("u", customerId));
        return await ReadCouponsAsync(cmd, cancellationToken);
    }

    private static async Task<List<CouponCode>> ReadCouponsAsync(DbCommand cmd, CancellationToken cancellationToken)
    {
        List<CouponCode> codes = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        DateTimeOffset? Time(int i) => reader.IsDBNull(i) ? null : FromMs(reader.GetInt64(i));
        while (await reader.ReadAsync(cancellationToken))
            codes.Add(new CouponCode(reader.GetString(0), reader.GetString(1), NullableString(reader, 2), reader.IsDBNull(3) ? null : reader.GetInt64(3),
                Time(4), Time(5), Time(6), NullableString(reader, 7), reader.IsDBNull(8) ? null : reader.GetInt64(8) / 100m));
        return codes;
    }
}
