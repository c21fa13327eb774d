namespace Nudge.Server.Tests;

/// <summary>
/// Regression: an RFM recompute interval over about 49 days (a timer's limit) made the job fail on
/// every wait, logging an error each hour instead of waiting.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class RfmIntervalBeyondTimerLimit
{
    [Fact]
    public async Task a_recompute_interval_of_a_year_waits_quietly()
    {
        await using var server = await TestServer.StartAsync(o => o with { Runtime = o.Runtime with { RfmQuintilesInterval = TimeSpan.FromDays(365) } });
        for (var i = 0; i < 3; i++)
        {
            server.Time.Advance(TimeSpan.FromDays(1));
            await Task.Delay(100);
        }

        Assert.DoesNotContain(server.Logs, l => l.Contains("quintile cut points failed", StringComparison.Ordinal));
        Assert.Contains(server.Logs, l => l.Contains("RFM quintile cut points recomputed", StringComparison.Ordinal)); // the first one, at start
    }
}
