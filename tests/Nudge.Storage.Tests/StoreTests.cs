using Nudge.Storage.Postgres;
using Nudge.Storage.Sqlite;

namespace Nudge.Storage.Tests;

public sealed class SqliteStoreTests : StoreContract, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nudge-sqlite-").FullName;

    protected override Task<INudgeStore> CreateStoreAsync() => Task.FromResult<INudgeStore>(new SqliteStore(Path.Combine(_directory, "nudge.db")));

    [Fact]
    public async Task the_file_is_in_wal_mode()
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_directory, "nudge.db")}");
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task write_back_order_is_the_order_of_rows_in_the_file_with_new_customers_last_by_id()
    {
        await using var store = new SqliteStore(Path.Combine(_directory, "order.db"));
        await store.MigrateAsync(CancellationToken.None);
        static CustomerStateWrite Write(string id) => new(id, 1, null, [1], []);
        // Rows are laid down in the order first written: c, a, b.
        await store.SaveStatesAsync([Write("c"), Write("a"), Write("b")], [], null, DateTimeOffset.UnixEpoch, CancellationToken.None);

        var ordered = await store.InWriteOrderAsync([Write("z"), Write("b"), Write("new"), Write("a"), Write("c")], CancellationToken.None);

        Assert.Equal(["c", "a", "b", "new", "z"], ordered.Select(w => w.CustomerId));
    }

    [Fact]
    public async Task a_write_back_leaves_every_later_commit_of_a_durable_store_waiting_for_the_disk_even_when_it_fails()
    {
        await using var store = new SqliteStore(Path.Combine(_directory, "durable.db"));
        await store.MigrateAsync(CancellationToken.None);
        Assert.Equal(2, await store.WriterSynchronousAsync(CancellationToken.None));

        await store.SaveStatesAsync([new CustomerStateWrite("c", 1, null, [1], [])], [], null, DateTimeOffset.UnixEpoch, CancellationToken.None);
        Assert.Equal(2, await store.WriterSynchronousAsync(CancellationToken.None));
        // A write-back that fails inside its transaction (a setting without a value) is rolled back, and restores it too.
        await Assert.ThrowsAnyAsync<Microsoft.Data.Sqlite.SqliteException>(() => store.SaveStatesAsync(
            [new CustomerStateWrite("d", 1, null, [1], [])], [], new Dictionary<string, string> { ["key"] = null! }, DateTimeOffset.UnixEpoch, CancellationToken.None));
        Assert.Equal(2, await store.WriterSynchronousAsync(CancellationToken.None));
        Assert.Null(await store.LoadStateAsync("d", CancellationToken.None));
        Assert.NotNull(await store.LoadStateAsync("c", CancellationToken.None));

        await using var throwaway = new SqliteStore(Path.Combine(_directory, "throwaway.db"), durable: false);
        await throwaway.MigrateAsync(CancellationToken.None);
        await throwaway.SaveStatesAsync([new CustomerStateWrite("c", 1, null, [1], [])], [], null, DateTimeOffset.UnixEpoch, CancellationToken.None);
        Assert.Equal(1, await throwaway.WriterSynchronousAsync(CancellationToken.None));
    }

    [Fact]
    public async Task upgrading_a_store_fills_product_interest_from_its_log_and_packs_its_histories()
    {
        // A store as version 7 left it, with product events (one anonymous, joined later) in its log.
        var path = Path.Combine(_directory, "v7.db");
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync();
            List<string> statements = [.. SqliteSchema.Migrations.Where(m => m.Version <= 7).SelectMany(m => m.Sql.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
            statements.Add("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
            statements.Add("INSERT INTO schema_migrations SELECT value, 'old', 0 FROM json_each('[1,2,3,4,5,6,7]')");
            statements.Add("""
                INSERT INTO events (message_id, type, name, user_id, anonymous_id, timestamp, received_at, payload) VALUES
                  ('e1', 'track', 'Product Viewed', 'u1', NULL, 1000, 0, '{"properties":{"product_id":"p1"}}'),
                  ('e2', 'track', 'Product Viewed', 'u1', NULL, 3000, 0, '{"properties":{"product_id":"p1"}}'),
                  ('e3', 'track', 'Product Added to Wishlist', 'u2', NULL, 2000, 0, '{"properties":{"product_id":"p1"}}'),
                  ('e4', 'track', 'Product Added', NULL, 'a1', 2000, 0, '{"properties":{"product_id":7}}'),
                  ('e5', 'track', 'Product Viewed', NULL, 'nobody', 2000, 0, '{"properties":{"product_id":"p1"}}')
                """);
            statements.Add("INSERT INTO identities VALUES ('a1', 'anonymous', 'u3', 0)");
            statements.Add("""
                INSERT INTO journey_activity (customer_id, journey_id, version, instance, kind, step, reason, at) VALUES
                  ('u1', 'cart', 1, 1, 'entered', NULL, NULL, 1000), ('u1', 'cart', 1, 1, 'step', 'remind', NULL, 2000),
                  ('u1', 'cart', 1, 1, 'ended', NULL, 'goal', 2000), ('u2', 'cart', 1, 1, 'entered', NULL, NULL, 5000)
                """);
            statements.Add("""
                INSERT INTO customer_changes (customer_id, kind, name, value, previous, at) VALUES
                  ('u1', 'tag_added', 'vip', 'true', NULL, 1000), ('u1', 'tag_changed', 'vip', 'gold', 'true', 2000), ('u2', 'segment_entered', 'all', NULL, NULL, 3000)
                """);
            foreach (var sql in statements)
            {
                await using var cmd = connection.CreateCommand();
                cmd.CommandText = sql;
                await cmd.ExecuteNonQueryAsync();
            }
        }

        await using var store = new SqliteStore(path);
        Assert.Equal([
            "008 product interest kept by the runtime per (product, customer), instead of an index on the event log by product",
            "009 journey history packed into one row per customer write-back, instead of one row per entry",
            "010 customer change history packed into one row per customer write-back, instead of one row per change"], await store.MigrateAsync(CancellationToken.None));
        var ct = CancellationToken.None;
        // Read with the whole log counted as written back: what is found comes from the filled table.
        var p1 = (await store.CustomersInterestedInAsync("p1", DateTimeOffset.FromUnixTimeMilliseconds(0), long.MaxValue, ct)).OrderBy(i => i.CustomerId, StringComparer.Ordinal);
        Assert.Equal([
            new ProductInterest("u1", DateTimeOffset.FromUnixTimeMilliseconds(3000), false, false),
            new ProductInterest("u2", null, false, true)], p1);
        Assert.Equal([new ProductInterest("u3", null, true, false)], await store.CustomersInterestedInAsync("7", DateTimeOffset.FromUnixTimeMilliseconds(0), long.MaxValue, ct));
        // The history reads as before: newest first, the later of two entries at the same time first.
        Assert.Equal([("ended", 2000L), ("step", 2000L), ("entered", 1000L)],
            (await store.CustomerJourneysAsync("u1", 10, ct)).Select(h => (h.Kind, h.At.ToUnixTimeMilliseconds())));
        Assert.Single(await store.CustomerJourneysAsync("u2", 10, ct));
        Assert.Equal([("tag_changed", "gold", "true"), ("tag_added", "true", null)], (await store.CustomerChangesAsync("u1", 10, ct)).Select(c => (c.Kind, c.Value, c.Previous)));
        Assert.Single(await store.CustomerChangesAsync("u2", 10, ct));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}

[CollectionDefinition(nameof(PostgresCollection))]
public sealed class PostgresCollection : ICollectionFixture<PostgresCluster>;

[Collection(nameof(PostgresCollection))]
public sealed class PostgresStoreTests(PostgresCluster cluster) : StoreContract
{
    protected override async Task<INudgeStore> CreateStoreAsync()
    {
        // A database per test keeps tests independent on one cluster.
        var name = "t" + Guid.NewGuid().ToString("N")[..12];
        await cluster.CreateDatabaseAsync(name);
        return new PostgresStore(cluster.ConnectionString(name));
    }

    [Fact]
    public async Task nodes_starting_together_migrate_once()
    {
        var name = "t" + Guid.NewGuid().ToString("N")[..12];
        await cluster.CreateDatabaseAsync(name);
        var stores = Enumerable.Range(0, 4).Select(_ => new PostgresStore(cluster.ConnectionString(name))).ToArray();
        var applied = await Task.WhenAll(stores.Select(s => s.MigrateAsync(CancellationToken.None)));
        Assert.Equal(1, applied.Count(a => a.Count > 0));
        foreach (var store in stores) await store.DisposeAsync();
    }
}
