using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Nudge.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class IngestionTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Batch(int count, int start = 0) =>
        "{\"batch\":[" + string.Join(',', Enumerable.Range(start, count).Select(i => $$"""{"type":"track","userId":"u{{i % 7}}","event":"Product Viewed","messageId":"m{{i}}"}""")) + "]}";

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    [Theory]
    [InlineData(TestServer.WriteKey, true, HttpStatusCode.OK)]
    [InlineData(TestServer.WriteKey, false, HttpStatusCode.OK)]
    [InlineData("wrong-key", true, HttpStatusCode.Unauthorized)]
    [InlineData(TestServer.AdminKey, true, HttpStatusCode.Unauthorized)]
    [InlineData(null, true, HttpStatusCode.Unauthorized)]
    public async Task the_write_key_goes_in_basic_auth_with_or_without_the_colon(string? key, bool colon, HttpStatusCode expected)
    {
        var response = await _server.PostAsync("/v1/track", """{"userId":"u1","event":"A"}""", key, colon);
        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task the_write_key_may_go_in_the_body_and_a_wrong_one_there_is_refused()
    {
        Assert.Equal(HttpStatusCode.OK, (await _server.PostAsync("/v1/track", $$"""{"writeKey":"{{TestServer.WriteKey}}","userId":"u1","event":"A"}""", writeKey: null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _server.PostAsync("/v1/batch", $$"""{"writeKey":"{{TestServer.WriteKey}}","batch":[{"type":"page","userId":"u1"}]}""", writeKey: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.PostAsync("/v1/track", """{"writeKey":"nope","userId":"u1","event":"A"}""", writeKey: null)).StatusCode);
        Assert.Equal(2, await _server.Store.CountEventsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task every_call_type_is_accepted_and_acknowledged_only_once_stored()
    {
        foreach (var (path, body) in new[]
        {
            ("/v1/identify", """{"userId":"u1","traits":{"email":"a@b.c"}}"""),
            ("/v1/track", """{"userId":"u1","event":"Order Completed","properties":{"order_id":"o1","total":"99.00","currency":"CNY"}}"""),
            ("/v1/page", """{"anonymousId":"a1","name":"Home"}"""),
            ("/v1/screen", """{"userId":"u1","name":"Cart"}"""),
            ("/v1/group", """{"userId":"u1","groupId":"g1","traits":{"name":"Acme"}}"""),
            ("/v1/alias", """{"userId":"u1","previousId":"a1"}"""),
        })
        {
            var response = await _server.PostAsync(path, body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("""{"success":true}""", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(6, await _server.Store.CountEventsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task browser_sdks_may_send_from_the_shops_origin()
    {
        var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/batch");
        preflight.Headers.Add("Origin", "https://shop.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        var response = await _server.Http.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());

        var admin = new HttpRequestMessage(HttpMethod.Options, "/api/products");
        admin.Headers.Add("Origin", "https://shop.example");
        admin.Headers.Add("Access-Control-Request-Method", "GET");
        Assert.False((await _server.Http.SendAsync(admin)).Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task the_same_message_id_twice_is_stored_once_and_both_calls_succeed()
    {
        const string body = """{"userId":"u1","event":"A","messageId":"same"}""";
        Assert.Equal(HttpStatusCode.OK, (await _server.PostAsync("/v1/track", body)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _server.PostAsync("/v1/track", body)).StatusCode);
        Assert.Equal(1, await _server.Store.CountEventsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task clock_skew_is_corrected_against_the_server_clock()
    {
        // The phone's clock is an hour fast; it sent the event 30 s after it happened.
        await _server.PostAsync("/v1/track", """{"userId":"u1","event":"A","timestamp":"2026-11-22T13:00:00Z","sentAt":"2026-11-22T13:00:30Z"}""");
        var e = Assert.Single(await _server.Store.ReadLogAsync(0, 10, CancellationToken.None));
        Assert.Equal(_server.Time.GetUtcNow().AddSeconds(-30), e.Timestamp);
    }

    [Fact]
    public async Task a_bad_message_in_a_batch_is_named_by_index_and_field_and_the_good_ones_are_kept()
    {
        var response = await _server.PostAsync("/v1/batch", """
            {"batch":[{"type":"track","userId":"u1","event":"A","messageId":"ok1"},
                      {"type":"track","anonymousId":"a1","messageId":"bad"},
                      {"type":"track","userId":"u1","event":"Order Completed","properties":{"products":[{"sku":"s","price":"abc"}]}},
                      {"type":"identify","messageId":"ok2","userId":"u2","traits":{"city":"杭州"}}]}
            """);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await ProblemAsync(response);
        Assert.Equal((2, 2), (problem.GetProperty("accepted").GetInt32(), problem.GetProperty("rejected").GetInt32()));
        Assert.Equal([(1, "event"), (2, "properties.products[0].price")],
            problem.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("index").GetInt32(), e.GetProperty("field").GetString()!)));
        Assert.Contains("batch[1].event", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(["ok1", "ok2"], (await _server.Store.ReadLogAsync(0, 10, CancellationToken.None)).Select(e => e.MessageId));
    }

    [Theory]
    [InlineData("/v1/track", """{"userId":"u1","event":"A",""", "not valid JSON")]
    [InlineData("/v1/track", """[1,2]""", "must be a JSON object")]
    [InlineData("/v1/batch", """{"batch":{}}""", "batch: must be an array")]
    [InlineData("/v1/track", """{"event":"A"}""", "userId: userId or anonymousId is required")]
    [InlineData("/v1/identify", """{"userId":"u1","traits":"vip"}""", "traits: must be an object")]
    public async Task invalid_bodies_get_a_problem_naming_what_is_wrong(string path, string body, string expected)
    {
        var response = await _server.PostAsync(path, body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, (await ProblemAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await _server.Store.CountEventsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task a_single_message_at_32_kb_passes_and_one_byte_more_is_400()
    {
        Assert.Equal(HttpStatusCode.OK, (await _server.PostAsync("/v1/track", Bodies.Padded(32 * 1024, "at"))).StatusCode);
        var over = await _server.PostAsync("/v1/track", Bodies.Padded(32 * 1024 + 1, "over"));
        Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
        Assert.Contains("limit is 32768 bytes", (await ProblemAsync(over)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_batch_at_500_kb_passes_and_one_byte_more_is_400()
    {
        var at = Bodies.BatchOfSize(500 * 1024);
        Assert.Equal(500 * 1024, Encoding.UTF8.GetByteCount(at));
        Assert.Equal(HttpStatusCode.OK, (await _server.PostAsync("/v1/batch", at)).StatusCode);
        var over = await _server.PostAsync("/v1/batch", Bodies.BatchOfSize(500 * 1024 + 1, "o"));
        Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
        Assert.Contains("limit is 512000 bytes", (await ProblemAsync(over)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_batch_of_2500_passes_and_2501_is_400()
    {
        Assert.Equal(HttpStatusCode.OK, (await _server.PostAsync("/v1/batch", Batch(2500))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.PostAsync("/v1/batch", Batch(2501, start: 10_000))).StatusCode);
        Assert.Equal(2500, await _server.Store.CountEventsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task gzip_bodies_are_accepted_and_the_limit_applies_after_decompression()
    {
        static HttpRequestMessage Gzipped(string json)
        {
            var buffer = new MemoryStream();
            using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(Encoding.UTF8.GetBytes(json));
            var content = new ByteArrayContent(buffer.ToArray());
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            content.Headers.ContentEncoding.Add("gzip");
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/batch") { Content = content };
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(TestServer.WriteKey + ":")));
            return request;
        }

        Assert.Equal(HttpStatusCode.OK, (await _server.Http.SendAsync(Gzipped(Batch(100)))).StatusCode);
        // Compresses to a few KB, but is one byte over 500 KB once inflated.
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Http.SendAsync(Gzipped(Bodies.BatchOfSize(500 * 1024 + 1, "z")))).StatusCode);
        Assert.Equal(100, await _server.Store.CountEventsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task a_refused_key_is_logged_only_as_a_hash()
    {
        await _server.PostAsync("/v1/track", """{"userId":"u1","event":"A"}""", "sk_live_secret_0042");
        var line = Assert.Single(_server.Logs, l => l.Contains("Refused an ingestion request", StringComparison.Ordinal));
        Assert.DoesNotContain("sk_live_secret_0042", line, StringComparison.Ordinal);
        Assert.Matches("write key #[0-9a-f]{8}", line);
    }
}

/// <summary>Bodies of exact sizes for the limit tests.</summary>
internal static class Bodies
{
    public static string Padded(int bytes, string messageId)
    {
        var head = "{\"userId\":\"u1\",\"messageId\":\"" + messageId + "\",\"event\":\"Pad\",\"properties\":{\"pad\":\"";
        const string tail = "\"}}";
        return head + new string('x', bytes - head.Length - tail.Length) + tail;
    }

    /// <summary>A batch of 20 KB messages plus one padded message, exactly <paramref name="bytes"/> long.</summary>
    public static string BatchOfSize(int bytes, string prefix = "b")
    {
        var parts = new List<string>();
        var size = "{\"batch\":[".Length + "]}".Length;
        var i = 0;
        while (bytes - size > 30 * 1024)
        {
            var message = Padded(20 * 1024, $"{prefix}{i++}").Replace("{\"userId", "{\"type\":\"track\",\"userId", StringComparison.Ordinal);
            parts.Add(message);
            size += message.Length + 1;
        }

        var last = Padded(bytes - size - 15, $"{prefix}{i}").Replace("{\"userId", "{\"type\":\"track\",\"userId", StringComparison.Ordinal);
        parts.Add(last);
        return "{\"batch\":[" + string.Join(',', parts) + "]}";
    }
}
