using System.Net;

namespace Nudge.Server.Tests;

/// <summary>The timer pump pages through due customers in rounds that overlap; every timer fires once.</summary>
[Collection(ServerCollection.Name)]
public sealed class TimerPumpTests : IAsyncLifetime
{
    private const string TwoWaits = """
        {"id": "two-waits", "trigger": {"event": "Signed Up"}, "steps": [
          {"id": "wait-1", "wait": "1h"}, {"id": "first", "send": {"channel": "inbox", "template": "hello"}},
          {"id": "wait-2", "wait": "1h"}, {"id": "second", "send": {"channel": "inbox", "template": "hello"}}]}
        """;

    private TestServer _server = null!;

    // Rounds of 3: eleven customers due at the same moment take four rounds, the last one short.
    public async Task InitializeAsync() =>
        _server = await TestServer.StartAsync(o => o with { Runtime = o.Runtime with { TimersPerRound = 3 } });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task customers_due_at_the_same_moment_are_fired_once_each_across_rounds()
    {
        await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/templates/hello", """{"locales": {"en": {"title": "Hello", "body": "Hi"}}}"""));
        Assert.Equal(HttpStatusCode.Created, (await _server.AdminAsync(HttpMethod.Put, "/api/journeys/two-waits", TwoWaits)).StatusCode);
        var customers = Enumerable.Range(0, 11).Select(i => $"u{i:00}").ToList();
        var batch = string.Join(",", customers.Select(c => $$"""{"type":"track","userId":"{{c}}","event":"Signed Up","messageId":"s-{{c}}"}"""));
        Assert.Equal(HttpStatusCode.OK, (await _server.PostAsync("/v1/batch", $$"""{"batch":[{{batch}}]}""")).StatusCode);
        await _server.DispatchedAsync();

        foreach (var (step, sends) in new[] { ("first", 11), ("second", 22) })
        {
            _server.Time.Advance(TimeSpan.FromHours(1));
            for (var i = 0; i < 600 && (await SentAsync()).Count < sends; i++) await Task.Delay(50);
            // Give a doubled or late round time to show itself.
            await Task.Delay(300);
            var sent = await SentAsync();
            Assert.Equal(sends, sent.Count);
            Assert.Equal(customers, sent.Where(m => m.Step == step).Select(m => m.Customer).Order(StringComparer.Ordinal));
        }
    }

    private async Task<List<(string Customer, string Step)>> SentAsync() =>
        [.. (await _server.Store.ListMessagesAsync(null, null, null, 100, CancellationToken.None)).Select(m => (m.Intent.CustomerId, m.Intent.IdempotencyKey.Split(':')[^1]))];
}
