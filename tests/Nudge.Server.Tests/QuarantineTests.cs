using System.Net;
using System.Text.Json;
using Nudge.Storage;

namespace Nudge.Server.Tests;

/// <summary>
/// One customer whose events cannot be applied must not stop everyone else's: they are set aside,
/// durably, with the reason, and released through the API once the cause is dealt with.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class QuarantineTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static Task<JsonElement> JsonAsync(HttpResponseMessage response) => TestServer.OkJsonAsync(response);

    private async Task<int> OrdersAsync(string id) =>
        (await JsonAsync(await _server.AdminGetAsync($"/api/customers/{id}"))).GetProperty("insights").GetProperty("stats").GetProperty("orders").GetInt32();

    private async Task OrdersPlacedAsync(params (string User, string Order)[] orders)
    {
        var batch = string.Join(',', orders.Select(o =>
            $$"""{"type":"track","userId":"{{o.User}}","event":"Order Completed","properties":{"order_id":"{{o.Order}}","total":50},"messageId":"{{o.Order}}"}"""));
        Assert.Equal(HttpStatusCode.OK, (await _server.PostAsync("/v1/batch", $$"""{"batch":[{{batch}}]}""")).StatusCode);
        await _server.DispatchedAsync();
    }

    [Fact]
    public async Task a_customer_whose_events_keep_failing_is_set_aside_and_released_once_fixed()
    {
        await OrdersPlacedAsync(("u1", "a1"), ("u2", "b1"));
        _server = await _server.RestartAsync();
        // u1's stored state becomes one this version cannot read (as if written by a newer Nudge):
        // every call to their grain fails from now on.
        await _server.Store.SaveStatesAsync([new CustomerStateWrite("u1", 1, null, [99, 1, 2, 3], [])], null, _server.Time.GetUtcNow(), CancellationToken.None);

        // Both customers' orders arrive in one round; u2's is applied and the log moves on.
        await OrdersPlacedAsync(("u1", "a2"), ("u2", "b2"));
        Assert.Equal(2, await OrdersAsync("u2"));
        var aside = Assert.Single((await JsonAsync(await _server.AdminGetAsync("/api/quarantine"))).EnumerateArray());
        Assert.Equal("u1", aside.GetProperty("customerId").GetString());
        Assert.Equal((await _server.Store.GetCustomerEventsAsync("u1", null, 1, CancellationToken.None))[0].Position, aside.GetProperty("position").GetInt64());
        Assert.Contains("format 99", aside.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains(_server.Logs, line => line.Contains("'u1' is set aside", StringComparison.Ordinal));
        var unreadable = await _server.AdminGetAsync("/api/customers/u1");
        Assert.Equal(HttpStatusCode.Conflict, unreadable.StatusCode);
        Assert.Contains("release?rebuild=true", await unreadable.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Still set aside after a restart; their later events wait in the log while others' go on.
        _server = await _server.RestartAsync();
        await OrdersPlacedAsync(("u1", "a3"), ("u2", "b3"));
        Assert.Equal(3, await OrdersAsync("u2"));

        // A plain release applies the waiting events, which still fail: 409 with the reason, still aside.
        var refused = await _server.AdminAsync(HttpMethod.Post, "/api/quarantine/u1/release");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("cannot be read", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Single((await JsonAsync(await _server.AdminGetAsync("/api/quarantine"))).EnumerateArray());

        // Rebuilt from the log, u1 has every order, including those that waited; then they are live again.
        var released = await JsonAsync(await _server.AdminAsync(HttpMethod.Post, "/api/quarantine/u1/release?rebuild=true"));
        Assert.True(released.GetProperty("rebuilt").GetBoolean());
        Assert.Empty((await JsonAsync(await _server.AdminGetAsync("/api/quarantine"))).EnumerateArray());
        Assert.Equal(3, await OrdersAsync("u1"));
        await OrdersPlacedAsync(("u1", "a4"));
        Assert.Equal(4, await OrdersAsync("u1"));
        Assert.Equal(HttpStatusCode.NotFound, (await _server.AdminAsync(HttpMethod.Post, "/api/quarantine/u1/release")).StatusCode);
        // A mistyped flag is refused, naming it; nothing is released.
        var mistyped = await _server.AdminAsync(HttpMethod.Post, "/api/quarantine/u2/release?rebuild=yes");
        Assert.Equal(HttpStatusCode.BadRequest, mistyped.StatusCode);
        Assert.Contains("rebuild", await mistyped.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task when_every_customer_fails_the_round_is_retried_and_nobody_is_set_aside()
    {
        await OrdersPlacedAsync(("u1", "a1"), ("u2", "b1"));
        _server = await _server.RestartAsync();
        foreach (var id in new[] { "u1", "u2" })
            await _server.Store.SaveStatesAsync([new CustomerStateWrite(id, 1, null, [99], [])], null, _server.Time.GetUtcNow(), CancellationToken.None);

        // Nobody succeeds, so nothing points at one customer: the round waits to be retried.
        Assert.Equal(HttpStatusCode.OK, (await _server.PostAsync("/v1/batch",
            """{"batch":[{"type":"track","userId":"u1","event":"Product Viewed","messageId":"v1"},{"type":"track","userId":"u2","event":"Product Viewed","messageId":"v2"}]}""")).StatusCode);
        for (var i = 0; i < 100 && !_server.Logs.Any(l => l.Contains("(attempt 2)", StringComparison.Ordinal)); i++) await Task.Delay(50);
        Assert.Contains(_server.Logs, l => l.Contains("(attempt 2)", StringComparison.Ordinal));
        Assert.Empty(await _server.Store.QuarantinedAsync(CancellationToken.None));
    }

    [Fact]
    public async Task a_customer_alone_in_failing_rounds_is_set_aside_after_the_configured_patience()
    {
        var server = await TestServer.StartAsync(o => o with { Runtime = o.Runtime with { SetAsideAloneAfter = TimeSpan.FromSeconds(1) } });
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await server.PostAsync("/v1/track", """{"userId":"u1","event":"Product Viewed","messageId":"v1"}""")).StatusCode);
            await server.DispatchedAsync();
            server = await server.RestartAsync();
            await server.Store.SaveStatesAsync([new CustomerStateWrite("u1", 1, null, [99], [])], null, server.Time.GetUtcNow(), CancellationToken.None);

            // Nobody else has events: the rounds fail for a while, then u1 is set aside and the log moves on.
            Assert.Equal(HttpStatusCode.OK, (await server.PostAsync("/v1/track", """{"userId":"u1","event":"Product Viewed","messageId":"v2"}""")).StatusCode);
            await server.DispatchedAsync();
            Assert.Contains(server.Logs, l => l.Contains("(attempt 1)", StringComparison.Ordinal));
            Assert.Equal(["u1"], (await server.Store.QuarantinedAsync(CancellationToken.None)).Select(q => q.CustomerId));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task a_customer_whose_timer_keeps_failing_is_set_aside_and_other_timers_fire()
    {
        await OrdersPlacedAsync(("u1", "a1"), ("u2", "b1"));
        _server = await _server.RestartAsync();
        var due = (await _server.Store.DueCustomersAsync(DateTimeOffset.MaxValue, 10, null, CancellationToken.None)).Single(d => d.CustomerId == "u1").Due;
        await _server.Store.SaveStatesAsync([new CustomerStateWrite("u1", 1, due, [99], [])], null, _server.Time.GetUtcNow(), CancellationToken.None);

        // Thirty days on, both come due for "no order in 30 days": u2 enters it, u1's check fails and u1 is set aside.
        _server.Time.Advance(TimeSpan.FromDays(30).Add(TimeSpan.FromMinutes(1)));
        for (var i = 0; i < 300 && (await _server.Store.QuarantinedAsync(CancellationToken.None)).Count == 0; i++) await Task.Delay(50);
        Assert.Equal(["u1"], (await _server.Store.QuarantinedAsync(CancellationToken.None)).Select(q => q.CustomerId));
        Assert.Equal(["u2"], (await _server.Store.SegmentMembersAsync("no-order-30d", null, 10, CancellationToken.None)).Select(m => m.CustomerId));
        Assert.DoesNotContain(await _server.Store.DueCustomersAsync(DateTimeOffset.MaxValue, 10, null, CancellationToken.None), d => d.CustomerId == "u1");
    }
}
