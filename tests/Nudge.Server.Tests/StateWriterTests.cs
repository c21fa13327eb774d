using Microsoft.Extensions.Time.Testing;
using Nudge.Engine.Customers;
using Nudge.Runtime.Customers;
using Nudge.Storage;
using Nudge.Storage.Sqlite;

namespace Nudge.Server.Tests;

/// <summary>Write-back in chunks: a failure part-way loses nothing and writes nothing twice; the checkpoint goes last.</summary>
public sealed class StateWriterTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nudge-writer-").FullName;
    private SqliteStore _store = null!;

    public async Task InitializeAsync()
    {
        _store = new SqliteStore(Path.Combine(_directory, "nudge.db"));
        await _store.MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private StateWriter FailingOnWrite(int n)
    {
        return new StateWriter(FailingStore.Wrap(_store, nameof(INudgeStore.SaveStatesAsync), n), new FakeTimeProvider(DateTimeOffset.UnixEpoch));
    }

    /// <summary>5,000 customers, each with a tag change and a view of one product: three chunks of write-back.</summary>
    private static void EnqueueCustomers(StateWriter writer)
    {
        for (var i = 0; i < 5000; i++)
        {
            var id = $"c{i}";
            writer.Enqueue(new CustomerStateWrite(id, i + 1, null, CustomerStateCodec.Encode(new CustomerState(id)),
                [new CustomerChange(ChangeKinds.TagAdded, "vip", "true", null, DateTimeOffset.UnixEpoch)]),
                [new ProductTouch("p1", DateTimeOffset.UnixEpoch, false, false)]);
        }
    }

    private async Task<int> InterestedAsync() =>
        (await _store.CustomersInterestedInAsync("p1", DateTimeOffset.UnixEpoch, long.MaxValue, CancellationToken.None)).Count;

    [Fact]
    public async Task a_write_back_that_fails_part_way_keeps_what_was_not_written_and_writes_nothing_twice()
    {
        // Write 1 is the product interest, writes 2 to 4 the states: the second chunk of states fails.
        using var writer = FailingOnWrite(3);
        EnqueueCustomers(writer);

        var checkpoint = new Dictionary<string, string> { ["dispatch_position"] = "5000" };
        await Assert.ThrowsAsync<IOException>(() => writer.FlushAsync(checkpoint, CancellationToken.None));
        // The first chunk is written; the rest waits; the checkpoint did not run ahead of them.
        Assert.Equal(2000, await _store.CountStatesAsync(CancellationToken.None));
        Assert.Equal(3000, writer.PendingCount);
        Assert.Null(await _store.GetMetaAsync("dispatch_position", CancellationToken.None));
        // Product interest went ahead of the states that took it in.
        Assert.Equal(5000, await InterestedAsync());

        await writer.FlushAsync(checkpoint, CancellationToken.None);
        Assert.Equal(5000, await _store.CountStatesAsync(CancellationToken.None));
        Assert.Equal("5000", await _store.GetMetaAsync("dispatch_position", CancellationToken.None));
        foreach (var id in new[] { "c0", "c1999", "c2000", "c4999" })
            Assert.Single(await _store.CustomerChangesAsync(id, 10, CancellationToken.None));
        Assert.Equal(5000, await InterestedAsync());
    }

    [Fact]
    public async Task product_interest_that_fails_to_be_written_is_kept_with_every_state()
    {
        using var writer = FailingOnWrite(1);
        EnqueueCustomers(writer);

        await Assert.ThrowsAsync<IOException>(() => writer.FlushAsync(null, CancellationToken.None));
        Assert.Equal(0, await _store.CountStatesAsync(CancellationToken.None));
        Assert.Equal(0, await InterestedAsync());
        Assert.Equal(5000, writer.PendingCount);
        // Interest noted meanwhile (a later view, a cart add of the same product) merges with what waits.
        writer.Enqueue(new CustomerStateWrite("c0", 5001, null, CustomerStateCodec.Encode(new CustomerState("c0")), []),
            [new ProductTouch("p1", DateTimeOffset.UnixEpoch.AddDays(1), true, false)]);

        await writer.FlushAsync(null, CancellationToken.None);
        Assert.Equal(5000, await _store.CountStatesAsync(CancellationToken.None));
        Assert.Equal(5000, await InterestedAsync());
        var c0 = (await _store.CustomersInterestedInAsync("p1", DateTimeOffset.UnixEpoch, long.MaxValue, CancellationToken.None)).Single(i => i.CustomerId == "c0");
        Assert.Equal(new ProductInterest("c0", DateTimeOffset.UnixEpoch.AddDays(1), true, false), c0);
    }
}
