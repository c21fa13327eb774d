using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Nudge.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ManagementApiTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<HttpResponseMessage> AdminAsync(HttpMethod method, string path, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestServer.AdminKey);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return _server.Http.SendAsync(request);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("nonsense", HttpStatusCode.Unauthorized)]
    [InlineData(TestServer.WriteKey, HttpStatusCode.Forbidden)]
    [InlineData(TestServer.AdminKey, HttpStatusCode.OK)]
    public async Task the_management_api_takes_only_the_admin_key(string? key, HttpStatusCode expected)
    {
        Assert.Equal(expected, (await _server.AdminGetAsync("/api/products", key)).StatusCode);
        // Checked before anything else: a malformed query tells an outsider nothing.
        var malformed = await _server.AdminGetAsync("/api/products?limit=abc", key);
        Assert.Equal(expected == HttpStatusCode.OK ? HttpStatusCode.BadRequest : expected, malformed.StatusCode);
        if (expected == HttpStatusCode.OK) Assert.Contains("limit", (await JsonAsync(malformed)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_cart_built_before_login_belongs_to_the_customer_after_it()
    {
        await _server.PostAsync("/v1/track", """{"anonymousId":"anon-42","event":"Product Added","properties":{"product_id":"p1","price":99,"quantity":1},"messageId":"cart1"}""");
        Assert.Equal(HttpStatusCode.NotFound, (await _server.AdminGetAsync("/api/customers/u42")).StatusCode);
        await _server.PostAsync("/v1/identify", """{"userId":"u42","anonymousId":"anon-42","traits":{"email":"li@shop.test","birthday":"1990-05-01"},"messageId":"login"}""");

        var customer = await JsonAsync(await _server.AdminGetAsync("/api/customers/u42"));
        Assert.Equal("li@shop.test", customer.GetProperty("traits").GetProperty("email").GetString());
        Assert.Equal("anon-42", customer.GetProperty("identities")[0].GetProperty("id").GetString());
        Assert.Equal(["login", "cart1"], customer.GetProperty("recentEvents").EnumerateArray().Select(e => e.GetProperty("messageId").GetString()));
        Assert.Equal("p1", customer.GetProperty("recentEvents")[1].GetProperty("message").GetProperty("properties").GetProperty("product_id").GetString());

        var page = await JsonAsync(await _server.AdminGetAsync("/api/customers/anon-42/events?limit=1"));
        Assert.Equal("login", page.GetProperty("events")[0].GetProperty("messageId").GetString());
        var next = page.GetProperty("next").GetInt64();
        var second = await JsonAsync(await _server.AdminGetAsync($"/api/customers/u42/events?limit=1&before={next}"));
        Assert.Equal("cart1", second.GetProperty("events")[0].GetProperty("messageId").GetString());
    }

    [Fact]
    public async Task products_are_created_changed_and_deleted_with_price_changes_recorded()
    {
        var created = await AdminAsync(HttpMethod.Put, "/api/products/p1", """{"name":"奶粉","category":"母婴","price":199,"currency":"CNY","stock":0}""");
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var dropped = await JsonAsync(await AdminAsync(HttpMethod.Put, "/api/products/p1", """{"name":"奶粉","category":"母婴","price":179,"currency":"CNY","stock":12}"""));
        Assert.Equal(["Price", "Stock"], dropped.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("kind").GetString()));
        Assert.Equal(179, (await JsonAsync(await _server.AdminGetAsync("/api/products/p1"))).GetProperty("price").GetDecimal());
        Assert.Equal(HttpStatusCode.NoContent, (await AdminAsync(HttpMethod.Delete, "/api/products/p1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.AdminGetAsync("/api/products/p1")).StatusCode);
        var changes = await JsonAsync(await _server.AdminGetAsync("/api/catalog/changes"));
        Assert.Equal(["Created", "Price", "Stock", "Deleted"], changes.EnumerateArray().Select(c => c.GetProperty("kind").GetString()));
    }

    [Theory]
    [InlineData("""{"price":"cheap","currency":"CNY"}""", "price")]
    [InlineData("""{"price":10,"currency":"rmb"}""", "currency")]
    [InlineData("""{"price":-1,"currency":"CNY"}""", "price")]
    [InlineData("""{"price":10}""", "currency")]
    [InlineData("""{"name":"x",""", "")]
    public async Task an_invalid_product_is_rejected_naming_the_field(string json, string field)
    {
        var response = await AdminAsync(HttpMethod.Put, "/api/products/p1", json);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (await JsonAsync(response)).GetProperty("detail").GetString()!;
        Assert.Contains(field, detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.AdminGetAsync("/api/products/p1")).StatusCode);
    }

    [Fact]
    public async Task health_metrics_and_the_api_reference_are_served()
    {
        await _server.PostAsync("/v1/batch", """{"batch":[{"type":"track","userId":"u1","event":"A"},{"type":"track","userId":"u1"}]}""");
        Assert.Equal("healthy", (await JsonAsync(await _server.Http.GetAsync("/healthz"))).GetProperty("status").GetString());
        var metrics = await _server.Http.GetStringAsync("/metrics");
        Assert.Contains("nudge_ingest_events_total{otel_scope_name=\"Nudge.Ingest\",outcome=\"stored\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("outcome=\"rejected\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("nudge_ingest_ack_duration_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains("nudge_ingest_queue_depth", metrics, StringComparison.Ordinal);
        var openApi = await JsonAsync(await _server.Http.GetAsync("/openapi/v1.json"));
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/api/customers/{id}", out _));
        Assert.Equal(HttpStatusCode.OK, (await _server.Http.GetAsync("/docs")).StatusCode);
    }
}
