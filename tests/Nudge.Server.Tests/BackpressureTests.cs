using System.Net;
using Microsoft.Data.Sqlite;

namespace Nudge.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class BackpressureTests
{
    [Fact]
    public async Task a_full_ingest_queue_answers_429_with_retry_after_and_keeps_what_it_accepted()
    {
        await using var server = await TestServer.StartAsync(o => o with { IngestQueueEvents = 150 });
        static string Batch(string prefix) => "{\"batch\":[" + string.Join(',', Enumerable.Range(0, 100).Select(i => $$"""{"type":"track","userId":"u","event":"E","messageId":"{{prefix}}{{i}}"}""")) + "]}";

        // Another writer holds the database: commits stall, the queue fills.
        await using var blocker = new SqliteConnection($"Data Source={((Storage.Sqlite.SqliteStore)server.Store).Path}");
        await blocker.OpenAsync();
        await using (var begin = blocker.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            await begin.ExecuteNonQueryAsync();
        }

        var first = server.PostAsync("/v1/batch", Batch("a"));
        await Task.Delay(300);
        var refused = await server.PostAsync("/v1/batch", Batch("b"));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        Assert.False(first.IsCompleted, "the first batch must not be acknowledged before it is committed");

        await using (var rollback = blocker.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync();
        }

        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
        Assert.Equal(100, await server.Store.CountEventsAsync(CancellationToken.None));
        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync("/v1/batch", Batch("b"))).StatusCode);
    }
}
