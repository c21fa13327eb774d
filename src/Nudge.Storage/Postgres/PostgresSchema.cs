namespace Nudge.Storage.Postgres;

internal static class PostgresSchema
{
    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "event log, customers, identities, catalog, keys", """
            CREATE TABLE events (
              position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              message_id TEXT NOT NULL,
              type TEXT NOT NULL,
              name TEXT,
              user_id TEXT,
              anonymous_id TEXT,
              timestamp BIGINT NOT NULL,
              received_at BIGINT NOT NULL,
              payload TEXT NOT NULL);
            CREATE INDEX events_by_user ON events (user_id, position) WHERE user_id IS NOT NULL;
            CREATE INDEX events_by_anonymous ON events (anonymous_id, position) WHERE user_id IS NULL;
            CREATE TABLE ingest_dedupe (message_id TEXT PRIMARY KEY, expires_at BIGINT NOT NULL);
            CREATE TABLE customers (user_id TEXT PRIMARY KEY, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL);
            CREATE TABLE customer_traits (
              subject TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, updated_at BIGINT NOT NULL,
              PRIMARY KEY (subject, name));
            CREATE TABLE identities (identity TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT NOT NULL, linked_at BIGINT NOT NULL);
            CREATE INDEX identities_by_user ON identities (user_id);
            CREATE TABLE products (
              product_id TEXT PRIMARY KEY, sku TEXT, name TEXT, category TEXT, brand TEXT, price NUMERIC, currency TEXT,
              stock INTEGER, url TEXT, image_url TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
            CREATE TABLE catalog_changes (
              position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, product_id TEXT NOT NULL, kind TEXT NOT NULL,
              old_value TEXT, new_value TEXT, at BIGINT NOT NULL);
            CREATE TABLE api_keys (kind TEXT PRIMARY KEY, hash TEXT NOT NULL, created_at BIGINT NOT NULL)
            """),
        new(2, "customer runtime: state snapshots, changes, segment members, definitions", """
            CREATE TABLE customer_state (
              customer_id TEXT PRIMARY KEY, position BIGINT NOT NULL, next_check_at BIGINT, state BYTEA NOT NULL, updated_at BIGINT NOT NULL);
            CREATE INDEX customer_state_due ON customer_state (next_check_at) WHERE next_check_at IS NOT NULL;
            CREATE TABLE customer_changes (
              id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
              value TEXT, previous TEXT, at BIGINT NOT NULL);
            CREATE INDEX customer_changes_by_customer ON customer_changes (customer_id, id);
            CREATE TABLE segment_members (segment_id TEXT NOT NULL, customer_id TEXT NOT NULL, since BIGINT NOT NULL, PRIMARY KEY (segment_id, customer_id));
            CREATE TABLE definitions (kind TEXT NOT NULL, id TEXT NOT NULL, json TEXT NOT NULL, ordinal INTEGER NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (kind, id));
            CREATE TABLE runtime_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)
            """),
        new(3, "messaging: outbox, links, consent ledger, suppressions, inbox, coupons, templates", """
            CREATE TABLE messages (
              id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, customer_id TEXT NOT NULL,
              requested_channel TEXT NOT NULL, channel TEXT, topic TEXT NOT NULL, template_id TEXT NOT NULL, data TEXT,
              coupon_campaign TEXT, source TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, attempts INTEGER NOT NULL,
              due_at BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, sent_at BIGINT,
              recipient TEXT, provider_id TEXT, locale TEXT, subject TEXT);
            CREATE INDEX messages_due ON messages (due_at, id) WHERE status IN ('queued', 'deferred', 'retry');
            CREATE INDEX messages_by_customer ON messages (customer_id, id);
            CREATE INDEX messages_sent_by_customer ON messages (customer_id, sent_at) WHERE sent_at IS NOT NULL;
            CREATE INDEX messages_by_status ON messages (status, id);
            CREATE TABLE message_links (message_id BIGINT NOT NULL, link INTEGER NOT NULL, url TEXT NOT NULL, PRIMARY KEY (message_id, link));
            CREATE TABLE consent_ledger (
              id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, subject TEXT NOT NULL, channel TEXT NOT NULL, topic TEXT NOT NULL, granted INTEGER NOT NULL,
              source TEXT NOT NULL, at BIGINT NOT NULL);
            CREATE INDEX consent_by_subject ON consent_ledger (subject, channel, topic, at);
            CREATE TABLE suppressions (channel TEXT NOT NULL, address TEXT NOT NULL, reason TEXT NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (channel, address));
            CREATE TABLE inbox (
              id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id TEXT NOT NULL, message_id BIGINT NOT NULL UNIQUE, title TEXT, body TEXT,
              html TEXT, created_at BIGINT NOT NULL, read_at BIGINT);
            CREATE INDEX inbox_by_customer ON inbox (customer_id, id);
            CREATE INDEX customer_traits_contact ON customer_traits (name, value) WHERE name IN ('email', 'phone');
            CREATE TABLE coupon_campaigns (id TEXT PRIMARY KEY, json TEXT NOT NULL, updated_at BIGINT NOT NULL);
            CREATE TABLE coupon_codes (
              code TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, customer_id TEXT, message_id BIGINT UNIQUE, issued_at BIGINT, expires_at BIGINT,
              redeemed_at BIGINT, order_id TEXT, revenue_minor BIGINT);
            CREATE INDEX coupon_codes_by_customer ON coupon_codes (campaign_id, customer_id);
            CREATE INDEX coupon_codes_free ON coupon_codes (campaign_id, code) WHERE customer_id IS NULL;
            CREATE TABLE templates (id TEXT PRIMARY KEY, json TEXT NOT NULL, updated_at BIGINT NOT NULL)
            """),
        new(4, "journeys: versions, instance activity, staff tasks, coupon issue keys, product interest index", """
            CREATE TABLE journeys (
              id TEXT NOT NULL, version INTEGER NOT NULL, json TEXT NOT NULL, source TEXT NOT NULL, created_at BIGINT NOT NULL, deleted_at BIGINT,
              PRIMARY KEY (id, version));
            CREATE TABLE journey_activity (
              id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id TEXT NOT NULL, journey_id TEXT NOT NULL, version INTEGER NOT NULL, instance BIGINT NOT NULL,
              kind TEXT NOT NULL, step TEXT, reason TEXT, at BIGINT NOT NULL);
            CREATE TABLE journey_counts (
              journey_id TEXT NOT NULL, version INTEGER NOT NULL, kind TEXT NOT NULL, step TEXT NOT NULL, reason TEXT NOT NULL, count BIGINT NOT NULL,
              PRIMARY KEY (journey_id, version, kind, step, reason));
            CREATE INDEX journey_activity_by_customer ON journey_activity (customer_id, at);
            CREATE TABLE staff_tasks (
              id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, customer_id TEXT NOT NULL, journey_id TEXT NOT NULL, step TEXT NOT NULL,
              title TEXT NOT NULL, note TEXT, queue TEXT NOT NULL, data TEXT, created_at BIGINT NOT NULL, done_at BIGINT, done_by TEXT);
            CREATE INDEX staff_tasks_open ON staff_tasks (queue, id) WHERE done_at IS NULL;
            ALTER TABLE coupon_codes ADD COLUMN issue_key TEXT;
            CREATE UNIQUE INDEX coupon_codes_by_issue_key ON coupon_codes (issue_key) WHERE issue_key IS NOT NULL;
            CREATE INDEX events_by_product ON events (((payload::jsonb) #>> '{properties,product_id}'), name)
              WHERE name IN ('Product Viewed', 'Product Added', 'Product Added to Wishlist')
            """),
        new(5, "coupon codes by customer; due messages in claim order", """
            CREATE INDEX coupon_codes_of_customer ON coupon_codes (customer_id, issued_at) WHERE customer_id IS NOT NULL;
            DROP INDEX messages_due;
            CREATE INDEX messages_due ON messages (due_at, customer_id, idempotency_key) WHERE status IN ('queued', 'deferred', 'retry')
            """),
        new(6, "customers in quarantine: their events wait in the log until released", """
            CREATE TABLE customer_quarantine (customer_id TEXT PRIMARY KEY, position BIGINT NOT NULL, reason TEXT NOT NULL, quarantined_at BIGINT NOT NULL)
            """),
        new(7, "due customers in a stable order: the timer pump pages through them while their new timers are written", """
            DROP INDEX customer_state_due;
            CREATE INDEX customer_state_due ON customer_state (next_check_at, customer_id) WHERE next_check_at IS NOT NULL
            """),
        new(8, "product interest kept by the runtime per (product, customer), instead of an index on the event log by product", """
            CREATE TABLE product_interest (
              product_id TEXT NOT NULL, customer_id TEXT NOT NULL, viewed_at BIGINT, carted INTEGER NOT NULL, wished INTEGER NOT NULL,
              PRIMARY KEY (product_id, customer_id));
            INSERT INTO product_interest (product_id, customer_id, viewed_at, carted, wished)
            SELECT ((e.payload::jsonb) #>> '{properties,product_id}'), COALESCE(e.user_id, i.user_id),
                   MAX(CASE WHEN e.name = 'Product Viewed' THEN e.timestamp END),
                   MAX(CASE WHEN e.name = 'Product Added' THEN 1 ELSE 0 END),
                   MAX(CASE WHEN e.name = 'Product Added to Wishlist' THEN 1 ELSE 0 END)
            FROM events e LEFT JOIN identities i ON e.user_id IS NULL AND i.identity = e.anonymous_id
            WHERE e.name IN ('Product Viewed', 'Product Added', 'Product Added to Wishlist')
              AND ((e.payload::jsonb) #>> '{properties,product_id}') IS NOT NULL AND COALESCE(e.user_id, i.user_id) IS NOT NULL
            GROUP BY ((e.payload::jsonb) #>> '{properties,product_id}'), COALESCE(e.user_id, i.user_id);
            DROP INDEX events_by_product
            """),
        new(9, "journey history packed into one row per customer write-back, instead of one row per entry", """
            CREATE TABLE journey_history (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id TEXT NOT NULL, at BIGINT NOT NULL, entries TEXT NOT NULL);
            CREATE INDEX journey_history_by_customer ON journey_history (customer_id, at);
            INSERT INTO journey_history (customer_id, at, entries)
            SELECT customer_id, MAX(at), json_agg(json_build_array(journey_id, version, instance, kind, step, reason, at) ORDER BY id)::text
            FROM journey_activity GROUP BY customer_id;
            DROP TABLE journey_activity
            """),
        new(10, "customer change history packed into one row per customer write-back, instead of one row per change", """
            CREATE TABLE customer_change_log (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id TEXT NOT NULL, changes TEXT NOT NULL);
            CREATE INDEX customer_change_log_by_customer ON customer_change_log (customer_id, id);
            INSERT INTO customer_change_log (customer_id, changes)
            SELECT customer_id, json_agg(json_build_array(kind, name, value, previous, at) ORDER BY id)::text FROM customer_changes GROUP BY customer_id;
            DROP TABLE customer_changes
            """),
    ];
}
