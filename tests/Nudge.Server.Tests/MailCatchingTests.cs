using System.Net;
using System.Text.Json;
using Nudge.Runtime.Delivery;

namespace Nudge.Server.Tests;

/// <summary><c>serve --catch-mail</c>: email goes to the engine's own mail catcher and can be previewed through /api/mail.</summary>
[Collection(ServerCollection.Name)]
public sealed class MailCatchingTests
{
    [Fact]
    public async Task caught_mail_is_listed_and_shown_with_its_headers_its_html_and_as_sent()
    {
        await using var server = await TestServer.StartAsync(o => o with { CatchMail = true, Delivery = o.Delivery with { Poll = TimeSpan.FromMilliseconds(50) } });
        await TestServer.OkJsonAsync(await server.AdminAsync(HttpMethod.Put, "/api/templates/hello", """
            {"locales": {"en": {"subject": "Hello {{ customer.first_name }}", "html": "<p>See <a href=\"https://shop.example/new\">what is new</a></p>", "text": "See what is new"}}}
            """));
        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync("/v1/identify", """{"userId":"u1","traits":{"email":"ada@example.com","first_name":"Ada","locale":"en","consent":{"email":true}}}""")).StatusCode);
        await server.DispatchedAsync();
        var queued = await TestServer.OkJsonAsync(await server.AdminAsync(HttpMethod.Post, "/api/messages",
            """{"idempotencyKey":"hello-u1","customerId":"u1","channel":"email","topic":"marketing","template":"hello"}"""));

        JsonElement list = default;
        for (var i = 0; i < 300 && (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0); i++)
        {
            ((OutboxSignal)server.Services.GetService(typeof(OutboxSignal))!).Pulse();
            await Task.Delay(50);
            list = await TestServer.OkJsonAsync(await server.AdminGetAsync("/api/mail"));
        }

        var caught = Assert.Single(list.EnumerateArray());
        Assert.Equal("Hello Ada", caught.GetProperty("subject").GetString());
        Assert.Equal(["ada@example.com"], caught.GetProperty("to").EnumerateArray().Select(t => t.GetString()));
        var id = caught.GetProperty("id").GetInt64();

        var full = await TestServer.OkJsonAsync(await server.AdminGetAsync($"/api/mail/{id}"));
        var headers = full.GetProperty("headers").EnumerateArray().Select(h => h.GetProperty("key").GetString()).ToList();
        Assert.Contains("List-Unsubscribe-Post", headers);
        Assert.Equal(queued.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
            full.GetProperty("headers").EnumerateArray().Single(h => h.GetProperty("key").GetString() == "X-Nudge-Message").GetProperty("value").GetString());
        Assert.True(full.GetProperty("hasHtml").GetBoolean());

        var html = await server.AdminGetAsync($"/api/mail/{id}/html");
        Assert.Equal("text/html", html.Content.Headers.ContentType!.MediaType);
        Assert.Contains("/t/c/", await html.Content.ReadAsStringAsync()); // the link as the customer gets it: tracked
        var raw = await server.AdminGetAsync($"/api/mail/{id}/raw");
        Assert.Equal("message/rfc822", raw.Content.Headers.ContentType!.MediaType);
        Assert.Contains("Subject: Hello Ada", await raw.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.NotFound, (await server.AdminGetAsync($"/api/mail/{id + 1}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.AdminGetAsync("/api/mail?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.AdminGetAsync("/api/mail", key: null)).StatusCode);
    }

    [Fact]
    public async Task without_catch_mail_the_preview_says_how_to_turn_it_on()
    {
        await using var server = await TestServer.StartAsync();
        var response = await server.AdminGetAsync("/api/mail");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("--catch-mail", await response.Content.ReadAsStringAsync());
    }
}
