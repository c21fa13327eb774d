using System.Net;
using System.Text.Json;
using Nudge.Engine.Customers;

namespace Nudge.Server.Tests;

/// <summary>The customer runtime end to end: events in through /v1, grains, write-back, timers on virtual time.</summary>
[Collection(ServerCollection.Name)]
public sealed class CustomerRuntimeTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static Task<JsonElement> JsonAsync(HttpResponseMessage response) => TestServer.OkJsonAsync(response);

    private async Task<JsonElement> InsightsAsync(string id) =>
        (await JsonAsync(await _server.AdminGetAsync($"/api/customers/{id}"))).GetProperty("insights");

    private async Task TrackAsync(string user, string name, string properties, string messageId)
    {
        var response = await _server.PostAsync("/v1/track", $$"""{"userId":"{{user}}","event":"{{name}}","properties":{{properties}},"messageId":"{{messageId}}"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<IReadOnlyList<CustomerChange>> ChangesAsync(string id) => await _server.Store.CustomerChangesAsync(id, 100, CancellationToken.None);

    /// <summary>Advances virtual time and waits for the timers due by then to fire and be written back.</summary>
    private async Task AdvanceAsync(TimeSpan by, Func<Task<bool>> until)
    {
        _server.Time.Advance(by);
        for (var i = 0; i < 600 && !await until(); i++) await Task.Delay(50);
        Assert.True(await until(), "the expected change did not happen within 30 s of real time");
    }

    [Fact]
    public async Task stats_cart_and_tags_follow_the_events()
    {
        await _server.PostAsync("/v1/identify", """{"userId":"u1","traits":{"gender":"female","city":"杭州"},"messageId":"i1"}""");
        await TrackAsync("u1", "Product Viewed", """{"product_id":"p1","category":"母婴","brand":"Bobo"}""", "v1");
        await TrackAsync("u1", "Product Added", """{"product_id":"p1","price":120,"quantity":2,"category":"母婴"}""", "a1");
        await TrackAsync("u1", "Order Completed", """{"order_id":"o1","total":240,"currency":"CNY","coupon":"NEW20","products":[{"product_id":"p1","price":120,"quantity":2}]}""", "o1");
        await TrackAsync("u1", "Order Completed", """{"order_id":"o2","total":100,"currency":"CNY"}""", "o2");
        await TrackAsync("u1", "Order Refunded", """{"order_id":"o2","total":40}""", "r2");
        await TrackAsync("u1", "Product Added", """{"product_id":"p9","price":15,"name":"奶瓶"}""", "a2");
        await _server.DispatchedAsync();

        var insights = await InsightsAsync("u1");
        var stats = insights.GetProperty("stats");
        Assert.Equal(2, stats.GetProperty("orders").GetInt32());
        Assert.Equal(300m, stats.GetProperty("revenue").GetDecimal());
        Assert.Equal(150m, stats.GetProperty("averageOrderValue").GetDecimal());
        Assert.Equal(0.5, stats.GetProperty("couponUseRatio").GetDouble());
        Assert.Equal(1, stats.GetProperty("productViews").GetInt32());
        Assert.Equal("p9", insights.GetProperty("cart").GetProperty("items")[0].GetProperty("productId").GetString());
        Assert.Equal(15m, insights.GetProperty("cart").GetProperty("value").GetDecimal());
        Assert.Equal("母婴", insights.GetProperty("topCategories")[0].GetProperty("name").GetString());
        var tags = insights.GetProperty("tags");
        Assert.Equal("female", tags.GetProperty("gender").GetProperty("value").GetString());
        Assert.Equal("杭州", tags.GetProperty("region").GetProperty("value").GetString());
        Assert.True(tags.TryGetProperty("repeat_buyer", out _));
        // Two orders within 30 days: active (seed 004).
        Assert.Equal("active", insights.GetProperty("stage").GetProperty("name").GetString());
        Assert.Equal("7d", insights.GetProperty("rfm").GetProperty("recencyBand").GetString());
    }

    [Fact]
    public async Task no_order_for_30_days_and_dormancy_fire_exactly_when_due()
    {
        var ordered = _server.Time.GetUtcNow();
        await TrackAsync("u2", "Order Completed", """{"order_id":"o1","total":80}""", "o1");
        await _server.DispatchedAsync();
        Assert.Equal(0, await _server.Store.CountSegmentMembersAsync("no-order-30d", CancellationToken.None));

        await AdvanceAsync(TimeSpan.FromDays(30), async () => await _server.Store.CountSegmentMembersAsync("no-order-30d", CancellationToken.None) == 1);
        var member = Assert.Single(await _server.Store.SegmentMembersAsync("no-order-30d", null, 10, CancellationToken.None));
        Assert.Equal(ordered.AddDays(30), member.Since);

        // Dormancy (seed 004: 90 days without an order) is a stage change stamped on day 90, not when noticed.
        await AdvanceAsync(TimeSpan.FromDays(61), async () => (await ChangesAsync("u2")).Any(c => c.Kind == ChangeKinds.StageChanged && c.Value == "dormant"));
        var dormant = (await ChangesAsync("u2")).Single(c => c.Kind == ChangeKinds.StageChanged && c.Value == "dormant");
        Assert.Equal(ordered.AddDays(90), dormant.At);
        Assert.Equal(1, await _server.Store.CountSegmentMembersAsync("dormant", CancellationToken.None));
    }

    [Fact]
    public async Task anonymous_browsing_counts_for_the_customer_once_identified()
    {
        await _server.PostAsync("/v1/track", """{"anonymousId":"anon-7","event":"Product Viewed","properties":{"product_id":"p1","category":"美妆"},"messageId":"av1"}""");
        await _server.PostAsync("/v1/track", """{"anonymousId":"anon-7","event":"Product Viewed","properties":{"product_id":"p2","category":"美妆"},"messageId":"av2"}""");
        await TrackAsync("u7", "Product Viewed", """{"product_id":"p3","category":"数码"}""", "uv1");
        await _server.DispatchedAsync();
        Assert.Equal(1, (await InsightsAsync("u7")).GetProperty("stats").GetProperty("productViews").GetInt32());

        await _server.PostAsync("/v1/identify", """{"userId":"u7","anonymousId":"anon-7","messageId":"login"}""");
        await _server.DispatchedAsync();
        var insights = await InsightsAsync("u7");
        Assert.Equal(3, insights.GetProperty("stats").GetProperty("productViews").GetInt32());
        Assert.Equal("美妆", insights.GetProperty("topCategories")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task a_restart_and_a_replay_from_an_old_checkpoint_apply_nothing_twice()
    {
        for (var i = 0; i < 5; i++) await TrackAsync("u3", "Order Completed", $$"""{"order_id":"o{{i}}","total":100}""", $"o{i}");
        await TrackAsync("u3", "Product Viewed", """{"product_id":"p1"}""", "v1");
        await _server.DispatchedAsync();
        var before = (await InsightsAsync("u3")).GetProperty("stats").GetRawText();

        // As if the process died after customers were written back but before the checkpoint moved:
        // the log is replayed from the start.
        await _server.Store.SetMetaAsync("dispatch_position", "0", CancellationToken.None);
        _server = await _server.RestartAsync();
        await _server.DispatchedAsync();
        Assert.Equal(before, (await InsightsAsync("u3")).GetProperty("stats").GetRawText());
        Assert.Equal(500m, (await InsightsAsync("u3")).GetProperty("stats").GetProperty("revenue").GetDecimal());
    }

    [Fact]
    public async Task custom_tags_are_set_and_removed_and_rule_tags_are_refused()
    {
        await TrackAsync("u4", "Product Viewed", """{"product_id":"p1"}""", "v1");
        await _server.DispatchedAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await _server.AdminAsync(HttpMethod.Put, "/api/customers/u4/tags/vip", """{"value":"gold"}""")).StatusCode);
        Assert.Equal("gold", (await InsightsAsync("u4")).GetProperty("tags").GetProperty("vip").GetProperty("value").GetString());
        // The tag is in the event log, so a customer rebuilt from the log keeps it.
        await _server.DispatchedAsync();
        var fromLog = new CustomerState("u4");
        foreach (var e in await _server.Store.ReadCustomerLogAsync("u4", long.MaxValue, CancellationToken.None))
            CustomerFold.Apply(fromLog, e, FoldSettings.Plain("CNY"));
        Assert.Equal("gold", fromLog.Tags["vip"].Value);

        var refused = await _server.AdminAsync(HttpMethod.Put, "/api/customers/u4/tags/repeat_buyer", "{}");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.AdminAsync(HttpMethod.Put, "/api/customers/nobody/tags/vip", "{}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.AdminAsync(HttpMethod.Put, "/api/customers/u4/tags/has%20space", "{}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.AdminAsync(HttpMethod.Put, "/api/customers/u4/tags/vip", $$"""{"value":"{{new string('x', 201)}}"}""")).StatusCode);
        Assert.Equal("gold", (await InsightsAsync("u4")).GetProperty("tags").GetProperty("vip").GetProperty("value").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await _server.AdminAsync(HttpMethod.Delete, "/api/customers/u4/tags/vip")).StatusCode);
        Assert.False((await InsightsAsync("u4")).GetProperty("tags").TryGetProperty("vip", out _));
        await Task.Delay(200); // written back within the flush interval
        var history = await ChangesAsync("u4");
        Assert.Contains(history, c => c is { Kind: ChangeKinds.TagAdded, Name: "vip", Value: "gold" });
        Assert.Contains(history, c => c is { Kind: ChangeKinds.TagRemoved, Name: "vip", Previous: "gold" });
    }
}
