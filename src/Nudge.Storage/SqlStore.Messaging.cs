using System.Data.Common;
using System.Globalization;
using Nudge.Engine.Customers;
using Nudge.Engine.Messaging;

namespace Nudge.Storage;

public abstract partial class SqlStore
{
    private const string MessageColumns = """
        id, idempotency_key, customer_id, requested_channel, channel, topic, template_id, data, coupon_campaign, source,
        status, reason, attempts, due_at, created_at, sent_at, recipient, provider_id, locale, subject
        """;

    /// <summary>
    /// The messages frequency caps count: marketing that was sent or is being handed over. The status
    /// is compared as an expression (<c>status || ''</c>) so that no planner reaches for the status
    /// index: for a few hundred customers, SQLite chose it and read every message ever sent, each
    /// delivery round, instead of these customers' last days through their (customer, sent_at) index.
    /// </summary>
    private const string CountedByCaps = $"topic = '{Topics.Marketing}' AND status || '' IN ('{MessageStatus.Sending}', '{MessageStatus.Sent}')";

    /// <summary>The reason of messages cut off mid-send by a stop or crash.</summary>
    public const string InterruptedReason = "interrupted";

    /// <summary>Appended to the claim's inner SELECT so that several nodes never claim the same message.</summary>
    protected virtual string SkipLocked => "";

    public async Task<EnqueueResult> EnqueueMessageAsync(MessageIntent intent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        var (connection, tx) = (write.Connection, write.Transaction);
        var ms = now.ToUnixTimeMilliseconds();
        // At most one message per idempotency key: a repeated intent finds the first one and changes nothing.
        await using (var insert = Command(connection, tx, $"""
            INSERT INTO messages (idempotency_key, customer_id, requested_channel, topic, template_id, data, coupon_campaign, source,
              status, attempts, due_at, created_at, updated_at)
            VALUES (@key, @customer, @channel, @topic, @template, @data, @coupon, @source, '{MessageStatus.Queued}', 0, @now, @now, @now)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id
            """, ("key", intent.IdempotencyKey), ("customer", intent.CustomerId), ("channel", intent.Channel), ("topic", intent.Topic),
            ("template", intent.TemplateId), ("data", intent.DataJson), ("coupon", intent.CouponCampaign), ("source", intent.Source), ("now", ms)))
        {
            if (await insert.ExecuteScalarAsync(cancellationToken) is { } id)
            {
                await tx.CommitAsync(cancellationToken);
                return new EnqueueResult(Convert.ToInt64(id, CultureInfo.InvariantCulture), true, MessageStatus.Queued);
            }
        }

        await using var existing = Command(connection, tx, "SELECT id, status FROM messages WHERE idempotency_key = @key", ("key", intent.IdempotencyKey));
        await using var reader = await existing.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new EnqueueResult(reader.GetInt64(0), false, reader.GetString(1));
    }

    public virtual async Task<IReadOnlyList<bool>> EnqueueMessagesAsync(IReadOnlyList<MessageIntent> intents, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        var (connection, tx) = (write.Connection, write.Transaction);
        await using var insert = Command(connection, tx, $"""
            INSERT INTO messages (idempotency_key, customer_id, requested_channel, topic, template_id, data, coupon_campaign, source,
              status, attempts, due_at, created_at, updated_at)
            VALUES (@key, @customer, @channel, @topic, @template, @data, @coupon, @source, '{MessageStatus.Queued}', 0, @now, @now, @now)
            ON CONFLICT (idempotency_key) DO NOTHING
            """, ("key", ""), ("customer", ""), ("channel", ""), ("topic", ""), ("template", ""), ("data", null), ("coupon", null), ("source", ""),
            ("now", now.ToUnixTimeMilliseconds()));
        var created = new bool[intents.Count];
        for (var i = 0; i < intents.Count; i++)
        {
            var intent = intents[i];
            Set(insert, "key", intent.IdempotencyKey);
            Set(insert, "customer", intent.CustomerId);
            Set(insert, "channel", intent.Channel);
            Set(insert, "topic", intent.Topic);
            Set(insert, "template", intent.TemplateId);
            Set(insert, "data", intent.DataJson);
            Set(insert, "coupon", intent.CouponCampaign);
            Set(insert, "source", intent.Source);
            created[i] = await insert.ExecuteNonQueryAsync(cancellationToken) == 1;
        }

        await tx.CommitAsync(cancellationToken);
        return created;
    }

    public async Task<IReadOnlyList<MessageRecord>> ClaimDueMessagesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        await using var cmd = Command(write.Connection, write.Transaction, $"""
            UPDATE messages SET status = '{MessageStatus.Claimed}', updated_at = @now
            WHERE id IN (SELECT id FROM messages WHERE status IN ('{MessageStatus.Queued}', '{MessageStatus.Deferred}', '{MessageStatus.Retry}')
                         AND due_at <= @now ORDER BY due_at, customer_id, idempotency_key LIMIT @limit{SkipLocked})
            RETURNING {MessageColumns}
            """, ("now", now.ToUnixTimeMilliseconds()), ("limit", limit));
        var claimed = await ReadMessagesAsync(cmd, cancellationToken);
        await write.Transaction.CommitAsync(cancellationToken);
        return [.. claimed.OrderBy(m => m.DueAt).ThenBy(m => m.Intent.CustomerId, StringComparer.Ordinal).ThenBy(m => m.Intent.IdempotencyKey, StringComparer.Ordinal)];
    }

    public async Task<DateTimeOffset?> NextMessageDueAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, $"""
            SELECT min(due_at) FROM messages WHERE status IN ('{MessageStatus.Queued}', '{MessageStatus.Deferred}', '{MessageStatus.Retry}')
            """);
        var due = await cmd.ExecuteScalarAsync(cancellationToken);
        return due is null or DBNull ? null : FromMs(Convert.ToInt64(due, CultureInfo.InvariantCulture));
    }

    /// <summary>The update of one message's delivery state; null parameters keep the column's value.</summary>
    protected const string MessageUpdateSql = """
        UPDATE messages SET status = @status, reason = @reason, due_at = COALESCE(@due, due_at), channel = COALESCE(@channel, channel),
          recipient = COALESCE(@recipient, recipient), sent_at = COALESCE(@sent, sent_at), attempts = COALESCE(@attempts, attempts),
          provider_id = COALESCE(@provider, provider_id), locale = COALESCE(@locale, locale), subject = COALESCE(@subject, subject),
          updated_at = @now
        WHERE id = @id
        """;

    public virtual async Task UpdateMessagesAsync(IReadOnlyList<MessageUpdate> updates, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (updates.Count == 0) return;
        await using var write = await BeginWriteAsync(cancellationToken);
        var (connection, tx) = (write.Connection, write.Transaction);
        await using var update = Command(connection, tx, MessageUpdateSql, ("status", ""), ("reason", null), ("due", null), ("channel", null), ("recipient", null), ("sent", null),
            ("attempts", null), ("provider", null), ("locale", null), ("subject", null), ("now", now.ToUnixTimeMilliseconds()), ("id", 0L));
        await using var link = Command(connection, tx, "INSERT INTO message_links (message_id, link, url) VALUES (@id, @link, @url) ON CONFLICT DO NOTHING",
            ("id", 0L), ("link", 0), ("url", ""));
        foreach (var u in updates)
        {
            Set(update, "status", u.Status);
            Set(update, "reason", u.Reason);
            Set(update, "due", u.DueAt?.ToUnixTimeMilliseconds());
            Set(update, "channel", u.Channel);
            Set(update, "recipient", u.Recipient);
            Set(update, "sent", u.SentAt?.ToUnixTimeMilliseconds());
            Set(update, "attempts", u.Attempts);
            Set(update, "provider", u.ProviderId);
            Set(update, "locale", u.Locale);
            Set(update, "subject", u.Subject);
            Set(update, "id", u.Id);
            await update.ExecuteNonQueryAsync(cancellationToken);
            for (var i = 0; i < (u.Links?.Count ?? 0); i++)
            {
                Set(link, "id", u.Id);
                Set(link, "link", i);
                Set(link, "url", u.Links![i]);
                await link.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await tx.CommitAsync(cancellationToken);
    }

    public async Task<int> RecoverMessagesAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        var (connection, tx) = (write.Connection, write.Transaction);
        var ms = now.ToUnixTimeMilliseconds();
        // Claimed but undecided: nothing left the building, so decide again. Interrupted mid-send: the
        // channel may have it; sending again could be a second copy, so it waits for a person (retry API).
        var requeued = await ExecuteAsync(connection, tx, $"UPDATE messages SET status = '{MessageStatus.Queued}', updated_at = @now WHERE status = '{MessageStatus.Claimed}'",
            cancellationToken, ("now", ms));
        var dead = await ExecuteAsync(connection, tx, $"""
            UPDATE messages SET status = '{MessageStatus.Dead}', reason = '{InterruptedReason}: the engine stopped while sending; it may or may not have arrived', updated_at = @now
            WHERE status = '{MessageStatus.Sending}'
            """, cancellationToken, ("now", ms));
        await tx.CommitAsync(cancellationToken);
        return requeued + dead;
    }

    public async Task<IReadOnlyList<SentMessage>> RecentMarketingAsync(string customerId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, $"""
            SELECT channel, sent_at FROM messages
            WHERE customer_id = @customer AND sent_at >= @since AND {CountedByCaps}
            """, ("customer", customerId), ("since", since.ToUnixTimeMilliseconds()));
        List<SentMessage> sent = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) sent.Add(new SentMessage(reader.GetString(0), FromMs(reader.GetInt64(1))));
        return sent;
    }

    public async Task<IReadOnlyList<DeliveryFacts>> DeliveryFactsAsync(IReadOnlyList<string> customerIds, DateTimeOffset since, CancellationToken cancellationToken)
    {
        // Set-based on one connection: delivery asks for hundreds of customers per round, and a
        // handful of IN queries per 500 customers costs far less than a handful of queries per customer.
        await using var connection = await OpenAsync(cancellationToken);
        List<DeliveryFacts> facts = new(customerIds.Count);
        foreach (var chunk in customerIds.Chunk(500))
            facts.AddRange(await DeliveryFactsAsync(connection, chunk, since, cancellationToken));
        return facts;
    }

    private async Task<List<DeliveryFacts>> DeliveryFactsAsync(DbConnection connection, string[] ids, DateTimeOffset since, CancellationToken cancellationToken)
    {
        // Customers asked for by user id; any other id (anonymous, alias) is resolved one by one.
        Dictionary<string, (DateTimeOffset First, DateTimeOffset Last)> known = new(StringComparer.Ordinal);
        await ForEachRowAsync(connection, "SELECT user_id, first_seen, last_seen FROM customers WHERE {0}", "user_id", ids, r =>
            known[r.GetString(0)] = (FromMs(r.GetInt64(1)), FromMs(r.GetInt64(2))), cancellationToken);

        // Every id joined to those customers (and ids joined to those, through an alias), as trait and consent subjects.
        Dictionary<string, string> owner = known.Keys.ToDictionary(k => k, k => k, StringComparer.Ordinal);
        Dictionary<string, List<Identity>> identities = new(StringComparer.Ordinal);
        var level = known.Keys.ToArray();
        for (var depth = 0; depth < 2 && level.Length > 0; depth++)
        {
            List<string> next = [];
            var direct = depth == 0;
            await ForEachRowAsync(connection, "SELECT identity, user_id, kind, linked_at FROM identities WHERE {0}", "user_id", level, r =>
            {
                var customer = owner[r.GetString(1)];
                if (direct) (identities.TryGetValue(customer, out var list) ? list : identities[customer] = []).Add(new Identity(r.GetString(0), r.GetString(2), FromMs(r.GetInt64(3))));
                if (owner.TryAdd(r.GetString(0), customer)) next.Add(r.GetString(0));
            }, cancellationToken);
            level = [.. next];
        }

        var subjects = owner.Keys.ToArray();
        Dictionary<string, Dictionary<string, TraitValue>> traits = new(StringComparer.Ordinal);
        await ForEachRowAsync(connection, "SELECT subject, name, value, updated_at FROM customer_traits WHERE {0}", "subject", subjects, r =>
        {
            var customer = owner[r.GetString(0)];
            var map = traits.TryGetValue(customer, out var m) ? m : traits[customer] = new(StringComparer.Ordinal);
            var value = new TraitValue(r.GetString(2), FromMs(r.GetInt64(3)));
            if (!map.TryGetValue(r.GetString(1), out var current) || value.UpdatedAt > current.UpdatedAt) map[r.GetString(1)] = value;
        }, cancellationToken);

        Dictionary<string, List<(long Id, ConsentChange Change)>> consent = new(StringComparer.Ordinal);
        await ForEachRowAsync(connection, "SELECT subject, channel, topic, granted, source, at, id FROM consent_ledger WHERE {0}", "subject", subjects, r =>
        {
            var customer = owner[r.GetString(0)];
            (consent.TryGetValue(customer, out var list) ? list : consent[customer] = []).Add((r.GetInt64(6), new ConsentChange(r.GetString(0), r.GetString(1), r.GetString(2),
                Convert.ToInt64(r.GetValue(3), CultureInfo.InvariantCulture) == 1, r.GetString(4), FromMs(r.GetInt64(5)))));
        }, cancellationToken);

        var users = known.Keys.ToArray();
        Dictionary<string, byte[]> states = new(StringComparer.Ordinal);
        await ForEachRowAsync(connection, "SELECT customer_id, state FROM customer_state WHERE {0}", "customer_id", users, r => states[r.GetString(0)] = (byte[])r.GetValue(1), cancellationToken);

        Dictionary<string, List<SentMessage>> recent = new(StringComparer.Ordinal);
        await ForEachRowAsync(connection,
            "SELECT customer_id, channel, sent_at FROM messages WHERE {0} AND sent_at >= " + since.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)
            + $" AND {CountedByCaps}",
            "customer_id", users, r => (recent.TryGetValue(r.GetString(0), out var list) ? list : recent[r.GetString(0)] = []).Add(new SentMessage(r.GetString(1), FromMs(r.GetInt64(2)))),
            cancellationToken);

        Dictionary<(string Channel, string Address), string> contacts = [];
        foreach (var (customer, map) in traits)
        {
            foreach (var (channel, trait) in new[] { (ChannelNames.Email, "email"), (ChannelNames.Sms, "phone") })
                if (map.TryGetValue(trait, out var value) && ContactAddresses.From(channel, value.JsonValue) is { } address) contacts[(channel, address)] = customer;
        }

        Dictionary<string, Dictionary<string, string>> suppressed = new(StringComparer.Ordinal);
        // The channel narrows the search to the primary key (channel, address): without it, every round read the whole list.
        await ForEachRowAsync(connection, $"SELECT channel, address, reason FROM suppressions WHERE channel IN ('{ChannelNames.Email}', '{ChannelNames.Sms}') AND {{0}}", "address",
            [.. contacts.Keys.Select(c => c.Address).Distinct()], r =>
        {
            if (contacts.TryGetValue((r.GetString(0), r.GetString(1)), out var customer))
                (suppressed.TryGetValue(customer, out var map) ? map : suppressed[customer] = new(StringComparer.Ordinal))[r.GetString(0)] = r.GetString(2);
        }, cancellationToken);

        List<DeliveryFacts> facts = new(ids.Length);
        foreach (var id in ids)
        {
            if (!known.TryGetValue(id, out var seen))
            {
                // Not a user id: resolve it the slow way (an anonymous id or an alias of a customer).
                var profile = await GetCustomerAsync(connection, id, cancellationToken);
                facts.Add(profile is null
                    ? new DeliveryFacts(id, null, [], null, [], new Dictionary<string, string>())
                    : (await DeliveryFactsAsync(connection, [profile.UserId], since, cancellationToken))[0] with { RequestedId = id });
                continue;
            }

            var customerProfile = new CustomerProfile(id, seen.First, seen.Last, traits.GetValueOrDefault(id) ?? [],
                identities.TryGetValue(id, out var joined) ? [.. joined.OrderBy(i => i.LinkedAt).ThenBy(i => i.Id, StringComparer.Ordinal)] : []);
            facts.Add(new DeliveryFacts(id, customerProfile,
                consent.TryGetValue(id, out var ledger) ? [.. ledger.OrderBy(c => c.Change.At).ThenBy(c => c.Id).Select(c => c.Change)] : [],
                states.GetValueOrDefault(id), recent.GetValueOrDefault(id) ?? [], suppressed.GetValueOrDefault(id) ?? new Dictionary<string, string>()));
        }

        return facts;
    }

    /// <summary>Runs a query whose <c>{0}</c> is "<paramref name="column"/> is one of <paramref name="values"/>", calling <paramref name="row"/> per row.</summary>
    private async Task ForEachRowAsync(DbConnection connection, string sql, string column, string[] values, Action<DbDataReader> row, CancellationToken cancellationToken)
    {
        if (values.Length == 0) return;
        await using var cmd = Command(connection, null, string.Format(CultureInfo.InvariantCulture, sql, InTextList(column, "@values")), ("values", TextListValue(values)));
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) row(reader);
    }

    public async Task<MessageRecord?> GetMessageAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, $"SELECT {MessageColumns} FROM messages WHERE id = @id", ("id", id));
        var found = await ReadMessagesAsync(cmd, cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    public async Task<IReadOnlyList<MessageRecord>> ListMessagesAsync(string? customerId, string? status, long? before, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // Conditions are left out rather than compared with NULL: PostgreSQL cannot type an untyped NULL parameter.
        var where = string.Join(" AND ", new[] { customerId is null ? null : "customer_id = @customer", status is null ? null : "status = @status",
            before is null ? null : "id < @before" }.Where(c => c is not null).DefaultIfEmpty("1 = 1"));
        await using var cmd = Command(connection, null, $"SELECT {MessageColumns} FROM messages WHERE {where} ORDER BY id DESC LIMIT @limit",
            ("customer", customerId), ("status", status), ("before", before ?? 0), ("limit", limit));
        return await ReadMessagesAsync(cmd, cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, long>> CountMessagesByStatusAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT status, COUNT(*) FROM messages GROUP BY status");
        Dictionary<string, long> counts = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }

    public async Task<bool> RetryMessageAsync(long id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await WriteAsync($"""
            UPDATE messages SET status = '{MessageStatus.Queued}', reason = NULL, due_at = @now, updated_at = @now
            WHERE id = @id AND status = '{MessageStatus.Dead}'
            """, cancellationToken, ("id", id), ("now", now.ToUnixTimeMilliseconds())) == 1;
    }

    public async Task<int> RetryInterruptedAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await WriteAsync($"""
            UPDATE messages SET status = '{MessageStatus.Queued}', reason = NULL, due_at = @now, updated_at = @now
            WHERE status = '{MessageStatus.Dead}' AND reason LIKE '{InterruptedReason}%'
            """, cancellationToken, ("now", now.ToUnixTimeMilliseconds()));
    }

    public async Task<string?> GetMessageLinkAsync(long messageId, int link, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT url FROM message_links WHERE message_id = @id AND link = @link", ("id", messageId), ("link", link));
        return await cmd.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task RecordConsentAsync(IReadOnlyList<ConsentChange> changes, CancellationToken cancellationToken)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        var (connection, tx) = (write.Connection, write.Transaction);
        await using var insert = Command(connection, tx, "INSERT INTO consent_ledger (subject, channel, topic, granted, source, at) VALUES (@s, @c, @t, @g, @src, @at)",
            ("s", ""), ("c", ""), ("t", ""), ("g", 0), ("src", ""), ("at", 0L));
        foreach (var change in changes)
        {
            Set(insert, "s", change.Subject);
            Set(insert, "c", change.Channel);
            Set(insert, "t", change.Topic);
            Set(insert, "g", change.Granted ? 1 : 0);
            Set(insert, "src", change.Source);
            Set(insert, "at", change.At.ToUnixTimeMilliseconds());
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ConsentChange>> ConsentLedgerAsync(string userId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // Consent given under an anonymous id or an alias belongs to the customer they joined.
        await using var cmd = Command(connection, null, $"""
            SELECT subject, channel, topic, granted, source, at FROM consent_ledger WHERE subject IN ({CustomerIds}) ORDER BY at, id
            """, ("user", userId));
        List<ConsentChange> ledger = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            ledger.Add(new ConsentChange(reader.GetString(0), reader.GetString(1), reader.GetString(2), Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture) == 1, reader.GetString(4), FromMs(reader.GetInt64(5))));
        return ledger;
    }

    public async Task SuppressAsync(string channel, string address, string reason, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await WriteAsync("""
            INSERT INTO suppressions (channel, address, reason, at) VALUES (@c, @a, @r, @at)
            ON CONFLICT (channel, address) DO UPDATE SET reason = excluded.reason, at = excluded.at
            """, cancellationToken, ("c", channel), ("a", address), ("r", reason), ("at", at.ToUnixTimeMilliseconds()));
    }

    public async Task<bool> UnsuppressAsync(string channel, string address, CancellationToken cancellationToken)
    {
        return await WriteAsync("DELETE FROM suppressions WHERE channel = @c AND address = @a", cancellationToken, ("c", channel), ("a", address)) == 1;
    }

    public async Task<string?> SuppressionAsync(string channel, string address, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT reason FROM suppressions WHERE channel = @c AND address = @a", ("c", channel), ("a", address));
        return await cmd.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task<long?> AddInboxAsync(InboxItem item, CancellationToken cancellationToken)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        // Keyed by the outbox message: a repeated delivery of one message leaves one inbox entry.
        await using var cmd = Command(write.Connection, write.Transaction, """
            INSERT INTO inbox (customer_id, message_id, title, body, html, created_at) VALUES (@c, @m, @t, @b, @h, @at)
            ON CONFLICT (message_id) DO NOTHING RETURNING id
            """, ("c", item.CustomerId), ("m", item.MessageId), ("t", item.Title), ("b", item.Body), ("h", item.Html),
            ("at", item.CreatedAt.ToUnixTimeMilliseconds()));
        var id = await cmd.ExecuteScalarAsync(cancellationToken);
        await write.Transaction.CommitAsync(cancellationToken);
        return id is not null and not DBNull ? Convert.ToInt64(id, CultureInfo.InvariantCulture) : null;
    }

    public async Task<IReadOnlyList<InboxItem>> ListInboxAsync(string? customerId, long? after, bool unreadOnly, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, $"""
            SELECT id, customer_id, message_id, title, body, html, created_at, read_at FROM inbox
            WHERE {(customerId is null ? "" : "customer_id = @c AND ")}id > @after{(unreadOnly ? " AND read_at IS NULL" : "")}
            ORDER BY id LIMIT @limit
            """, ("c", customerId), ("after", after ?? 0), ("limit", limit));
        List<InboxItem> items = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            items.Add(new InboxItem(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), NullableString(reader, 3), NullableString(reader, 4),
                NullableString(reader, 5), FromMs(reader.GetInt64(6)), reader.IsDBNull(7) ? null : FromMs(reader.GetInt64(7))));
        return items;
    }

    public async Task<IReadOnlyList<long>> MarkInboxReadAsync(string customerId, IReadOnlyList<long> ids, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        var (connection, tx) = (write.Connection, write.Transaction);
        List<long> marked = [];
        foreach (var id in ids.Distinct())
        {
            await using var cmd = Command(connection, tx, "UPDATE inbox SET read_at = @at WHERE id = @id AND customer_id = @c AND read_at IS NULL RETURNING message_id",
                ("at", at.ToUnixTimeMilliseconds()), ("id", id), ("c", customerId));
            if (await cmd.ExecuteScalarAsync(cancellationToken) is { } messageId) marked.Add(Convert.ToInt64(messageId, CultureInfo.InvariantCulture));
        }

        await tx.CommitAsync(cancellationToken);
        return marked;
    }

    public async Task<IReadOnlyList<StoredTemplate>> LoadTemplatesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT id, json, updated_at FROM templates ORDER BY id");
        List<StoredTemplate> templates = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) templates.Add(new StoredTemplate(reader.GetString(0), reader.GetString(1), FromMs(reader.GetInt64(2))));
        return templates;
    }

    public async Task PutTemplateAsync(StoredTemplate template, CancellationToken cancellationToken)
    {
        await WriteAsync("""
            INSERT INTO templates (id, json, updated_at) VALUES (@id, @json, @at)
            ON CONFLICT (id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at
            """, cancellationToken, ("id", template.Id), ("json", template.Json), ("at", template.UpdatedAt.ToUnixTimeMilliseconds()));
    }

    public async Task<bool> DeleteTemplateAsync(string id, CancellationToken cancellationToken)
    {
        return await WriteAsync("DELETE FROM templates WHERE id = @id", cancellationToken, ("id", id)) == 1;
    }

    public async Task<IReadOnlyList<string>> CustomersWithContactAsync(string trait, string value, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, """
            SELECT DISTINCT COALESCE(i.user_id, t.subject) FROM customer_traits AS t LEFT JOIN identities AS i ON i.identity = t.subject
            WHERE t.name = @name AND t.value = @value
            """, ("name", trait), ("value", JsonString(value)));
        List<string> ids = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetString(0));
        return ids;
    }

    /// <summary>A trait value as shops send it: a JSON string escaped only where JSON requires (so "+86..." stays as it is).</summary>
    private static string JsonString(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static void Set(DbCommand cmd, string name, object? value) => cmd.Parameters[name].Value = value ?? DBNull.Value;

    private static async Task<List<MessageRecord>> ReadMessagesAsync(DbCommand cmd, CancellationToken cancellationToken)
    {
        List<MessageRecord> messages = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var intent = new MessageIntent(reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(5), reader.GetString(6),
                NullableString(reader, 7), NullableString(reader, 8), reader.GetString(9));
            messages.Add(new MessageRecord(reader.GetInt64(0), intent, NullableString(reader, 4), reader.GetString(10), NullableString(reader, 11),
                reader.GetInt32(12), FromMs(reader.GetInt64(13)), FromMs(reader.GetInt64(14)), reader.IsDBNull(15) ? null : FromMs(reader.GetInt64(15)),
                NullableString(reader, 16), NullableString(reader, 17), NullableString(reader, 18), NullableString(reader, 19)));
        }

        return messages;
    }
}
