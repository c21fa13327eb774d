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
