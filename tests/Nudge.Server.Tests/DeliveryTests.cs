using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Nudge.Channels.Email;
using Nudge.Channels.Sms;
using Nudge.Channels.Tests;
using Nudge.Engine.Messaging;
using Nudge.Runtime.Delivery;

namespace Nudge.Server.Tests;

/// <summary>Delivery end to end: intents through the API, policy, templates, a real SMTP server, tracking links, consent.</summary>
[Collection(ServerCollection.Name)]
public sealed partial class DeliveryTests : IAsyncLifetime
{
    private const string CallbackKey = "cb-key";
    private SmtpSink _smtp = null!;
    private HttpSink _sms = null!;
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _smtp = await SmtpSink.StartAsync();
        _sms = new HttpSink();
        _server = await TestServer.StartAsync(o => o with
        {
            Delivery = new DeliverySettings
            {
                Email = new SmtpSettings { Host = "127.0.0.1", Port = _smtp.Port, From = "Shop <news@shop.example>" },
                Sms = new SmsSettings { Url = _sms.Url + "/send", CallbackKey = CallbackKey },
                Poll = TimeSpan.FromMilliseconds(50),
                FirstRetry = TimeSpan.FromMinutes(1),
                MaxAttempts = 5,
            },
        });
        var template = await _server.AdminAsync(HttpMethod.Put, "/api/templates/cart", """
            {"locales": {"en": {"subject": "{{ customer.first_name }}, your cart", "html": "<p>Back to <a href=\"https://shop.example/cart?x=1&y=2\">your cart</a></p>", "sms": "Cart waiting"},
                         "zh-CN": {"subject": "购物车", "html": "<p>购物车</p>", "sms": "购物车在等您"}}}
            """);
        await TestServer.OkJsonAsync(template);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _sms.Dispose();
        await _smtp.DisposeAsync();
    }

    private async Task IdentifyAsync(string user, string traits)
    {
        var response = await _server.PostAsync("/v1/identify", $$"""{"userId":"{{user}}","traits":{{traits}}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private Task IdentifyOptedInAsync(string user) =>
        IdentifyAsync(user, $$$"""{"email":"{{{user}}}@example.com","phone":"+1555{{{user.Length}}}000","first_name":"Ada","locale":"en-US","consent":{"email":true,"sms":true}}""");

    private async Task<JsonElement> SendAsync(string key, string user, string channel = "email", string topic = "marketing")
    {
        var response = await _server.AdminAsync(HttpMethod.Post, "/api/messages",
            $$$$"""{"idempotencyKey":"{{{{key}}}}","customerId":"{{{{user}}}}","channel":"{{{{channel}}}}","topic":"{{{{topic}}}}","template":"cart","data":{"cart":{"total":12}}}""");
        return await TestServer.OkJsonAsync(response);
    }

    private async Task<JsonElement> MessageAsync(long id) => await TestServer.OkJsonAsync(await _server.AdminGetAsync($"/api/messages/{id}"));

    /// <summary>Wakes delivery until the message reaches one of the statuses (30 s of real time at most).</summary>
    private async Task<JsonElement> SettledAsync(long id, params string[] statuses)
    {
        var signal = (OutboxSignal)_server.Services.GetService(typeof(OutboxSignal))!;
        for (var i = 0; i < 600; i++)
        {
            var message = await MessageAsync(id);
            if (statuses.Contains(message.GetProperty("status").GetString())) return message;
            signal.Pulse();
            await Task.Delay(50);
        }

        Assert.Fail($"message {id} did not become {string.Join(" or ", statuses)}: {await MessageAsync(id)}");
        return default;
    }

    [GeneratedRegex("""href="([^"]+/t/c/[^"]+)"[^>]*>your cart""")]
    private static partial Regex ClickLink();

    [GeneratedRegex("""src="[^"]+(/t/o/[^"]+)" """)]
    private static partial Regex Pixel();

    [Fact]
    public async Task an_email_goes_out_once_with_tracking_that_comes_back_as_events_and_an_unsubscribe_that_binds()
    {
        await IdentifyOptedInAsync("u1");
        var queued = await SendAsync("k1", "u1");
        Assert.True(queued.GetProperty("created").GetBoolean());
        Assert.False((await SendAsync("k1", "u1")).GetProperty("created").GetBoolean()); // same key: nothing new
        var id = queued.GetProperty("id").GetInt64();
        var sent = await SettledAsync(id, "sent");
        Assert.Equal(("email", "u1@example.com", "Ada, your cart"), (sent.GetProperty("channel").GetString(), sent.GetProperty("recipient").GetString(), sent.GetProperty("subject").GetString()));

        var mime = Assert.Single(await _smtp.WaitForAsync(1)).Parse();
        Assert.Equal("Ada, your cart", mime.Subject);
        var unsubscribe = mime.Headers["List-Unsubscribe"]!.Trim('<', '>');
        Assert.Equal("List-Unsubscribe=One-Click", mime.Headers["List-Unsubscribe-Post"]);

        // A click leads to the recorded URL and is an event; an edited token leads nowhere.
        var click = new Uri(WebUtility.HtmlDecode(ClickLink().Match(mime.HtmlBody!).Groups[1].Value)).PathAndQuery;
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _server.Http.BaseAddress };
        var redirect = await noRedirect.GetAsync(click);
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("https://shop.example/cart?x=1&y=2", redirect.Headers.Location!.ToString());
        var edited = click[..^3] + (click[^3] == 'A' ? 'B' : 'A') + click[^2..];
        Assert.Equal(HttpStatusCode.BadRequest, (await noRedirect.GetAsync(edited)).StatusCode);
        var pixel = await noRedirect.GetAsync(Pixel().Match(mime.HtmlBody!).Groups[1].Value);
        Assert.Equal("image/gif", pixel.Content.Headers.ContentType!.MediaType);

        var events = await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/customers/u1/events"));
        var names = events.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();
        Assert.Contains("Message Clicked", names);
        Assert.Contains("Message Opened", names);

        // RFC 8058: the GET is a page that changes nothing; the POST unsubscribes at once.
        var path = new Uri(unsubscribe).PathAndQuery;
        Assert.Contains("<form method=\"post\"", await noRedirect.GetStringAsync(path));
        Assert.Equal(HttpStatusCode.OK, (await noRedirect.PostAsync(path, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]))).StatusCode);
        var consent = await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/customers/u1/consent"));
        var email = consent.GetProperty("current").EnumerateArray().Single(c => c.GetProperty("channel").GetString() == "email" && c.GetProperty("topic").GetString() == "marketing");
        Assert.Equal((false, "unsubscribe"), (email.GetProperty("granted").GetBoolean(), email.GetProperty("source").GetString()));

        var after = await SettledAsync((await SendAsync("k2", "u1")).GetProperty("id").GetInt64(), "dropped");
        Assert.Equal("no_consent:email", after.GetProperty("reason").GetString());
        Assert.Single(_smtp.Messages());
    }

    [Fact]
    public async Task the_seed_caps_allow_two_marketing_messages_a_day_while_transactional_ones_still_go()
    {
        await IdentifyOptedInAsync("u2");
        var ids = new List<long>();
        for (var i = 0; i < 3; i++) ids.Add((await SendAsync($"cap-{i}", "u2")).GetProperty("id").GetInt64());
        var transactional = (await SendAsync("order-1", "u2", topic: "transactional")).GetProperty("id").GetInt64();
        var outcomes = new List<string?>();
        foreach (var id in ids) outcomes.Add((await SettledAsync(id, "sent", "dropped")).GetProperty("reason").GetString());
        Assert.Equal([null, null, "daily_cap"], outcomes);
        await SettledAsync(transactional, "sent");
        Assert.Equal(3, (await _smtp.WaitForAsync(3)).Count);
    }

    [Fact]
    public async Task quiet_hours_hold_a_message_until_eight_in_the_customers_morning()
    {
        // 12:00 UTC is 21:00 in Tokyo.
        await IdentifyAsync("u3", """{"email":"u3@example.com","timezone":"Asia/Tokyo","consent":{"email":true}}""");
        var id = (await SendAsync("quiet", "u3")).GetProperty("id").GetInt64();
        var deferred = await SettledAsync(id, "deferred");
        Assert.Equal("quiet_hours", deferred.GetProperty("reason").GetString());
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 23, 0, 0, TimeSpan.Zero), deferred.GetProperty("dueAt").GetDateTimeOffset());
        Assert.Empty(_smtp.Messages());

        _server.Time.Advance(TimeSpan.FromHours(11));
        await SettledAsync(id, "sent");
        Assert.Single(await _smtp.WaitForAsync(1));
    }

    [Fact]
    public async Task a_mail_server_down_for_an_hour_then_refusing_gets_every_message_exactly_once_when_it_is_back()
    {
        for (var i = 0; i < 5; i++) await IdentifyOptedInAsync($"o{i}");
        await _smtp.StopAsync();
        var ids = new List<long>();
        for (var i = 0; i < 5; i++) ids.Add((await SendAsync($"outage-{i}", $"o{i}", topic: "transactional")).GetProperty("id").GetInt64());
        foreach (var id in ids) Assert.Equal(1, (await SettledAsync(id, "retry")).GetProperty("attempts").GetInt32());

        // Down for most of an hour: every retry fails and is scheduled further out.
        await _smtp.StartAgainAsync();
        _smtp.Refuse(true);
        _server.Time.Advance(TimeSpan.FromMinutes(2));
        foreach (var id in ids)
        {
            for (var i = 0; i < 200 && (await MessageAsync(id)).GetProperty("attempts").GetInt32() < 2; i++) await Task.Delay(50);
            Assert.Contains("421", (await MessageAsync(id)).GetProperty("reason").GetString());
        }

        _smtp.Refuse(false);
        _server.Time.Advance(TimeSpan.FromHours(1));
        foreach (var id in ids) await SettledAsync(id, "sent");
        var mails = await _smtp.WaitForAsync(5);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"o{i}@example.com"), mails.SelectMany(m => m.Recipients).Order());
        await Task.Delay(300);
        Assert.Equal(5, _smtp.Messages().Count);
    }

    [Fact]
    public async Task a_refused_mailbox_is_dead_lettered_suppressed_and_reported_as_a_bounce()
    {
        await IdentifyAsync("u4", """{"email":"bounce-u4@example.com","consent":{"email":true}}""");
        var dead = await SettledAsync((await SendAsync("b1", "u4")).GetProperty("id").GetInt64(), "dead");
        Assert.StartsWith("invalid address: SMTP 550", dead.GetProperty("reason").GetString());
        var suppression = await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/suppressions/email/bounce-u4@example.com"));
        Assert.Equal("invalid_address", suppression.GetProperty("reason").GetString());
        var next = await SettledAsync((await SendAsync("b2", "u4")).GetProperty("id").GetInt64(), "dropped");
        Assert.Equal("suppressed:email:invalid_address", next.GetProperty("reason").GetString());
        var deadLetters = await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/messages?status=dead"));
        Assert.Single(deadLetters.GetProperty("messages").EnumerateArray());
    }

    [Fact]
    public async Task invalid_intents_are_refused_naming_each_field()
    {
        await IdentifyOptedInAsync("u5");
        var response = await _server.AdminAsync(HttpMethod.Post, "/api/messages", """{"idempotencyKey":"x","customerId":"nobody","channel":"fax","topic":"promo","template":"nope"}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadAsStringAsync();
        foreach (var part in new[] { "channel: must be one of", "topic: must be marketing or transactional", "template: there is no message template 'nope'", "customerId: no customer has the id 'nobody'" })
            Assert.Contains(part, problem);
        var unconfigured = await _server.AdminAsync(HttpMethod.Post, "/api/messages", """{"idempotencyKey":"y","customerId":"u5","channel":"wecom","template":"cart"}""");
        Assert.Contains("'wecom' is not configured", await unconfigured.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.AdminAsync(HttpMethod.Post, "/api/messages", "{not json")).StatusCode);
    }

    [Fact]
    public async Task consent_given_in_identify_traits_is_kept_in_the_ledger_and_invalid_consent_is_refused()
    {
        await IdentifyAsync("u6", """{"email":"u6@example.com","consent":{"email":true,"sms":{"marketing":false}}}""");
        var consent = await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/customers/u6/consent"));
        Assert.Equal(["email/marketing/True/identify", "sms/marketing/False/identify"],
            consent.GetProperty("ledger").EnumerateArray().Select(c => $"{c.GetProperty("channel")}/{c.GetProperty("topic")}/{c.GetProperty("granted").GetBoolean()}/{c.GetProperty("source")}"));
        var bad = await _server.PostAsync("/v1/identify", """{"userId":"u6","traits":{"consent":{"email":"yes"}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("traits.consent.email", await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task an_sms_stop_reply_unsubscribes_the_sender_at_once_and_needs_the_callback_key()
    {
        await IdentifyOptedInAsync("u7");
        var phone = "+15552000";
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Http.PostAsync("/sms/replies/generic", Json($$"""{"from":"{{phone}}","text":"退订"}"""))).StatusCode);
        var reply = await _server.Http.PostAsync($"/sms/replies/generic?key={CallbackKey}", Json($$"""{"from":"{{phone}}","text":"退订"}"""));
        Assert.Equal(1, (await TestServer.OkJsonAsync(reply)).GetProperty("unsubscribed").GetInt32());
        var dropped = await SettledAsync((await SendAsync("s1", "u7", channel: "sms")).GetProperty("id").GetInt64(), "dropped");
        Assert.Equal("no_consent:sms", dropped.GetProperty("reason").GetString());
        Assert.Empty(_sms.Requests);
    }

    [Fact]
    public async Task the_inbox_lists_marks_read_and_streams_new_messages_for_a_token_holder()
    {
        await IdentifyOptedInAsync("u8");
        var token = (await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/customers/u8/inbox-token"))).GetProperty("token").GetString();
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Http.GetAsync("/inbox?token=forged.token")).StatusCode);

        using var stream = await _server.Http.GetStreamAsync($"/inbox/stream?token={token}");
        using var reader = new StreamReader(stream);
        Assert.Equal(": connected", await reader.ReadLineAsync());
        await SettledAsync((await SendAsync("i1", "u8", channel: "inbox")).GetProperty("id").GetInt64(), "sent");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var lines = new List<string>();
        while (!lines.Any(l => l.StartsWith("data:", StringComparison.Ordinal))) lines.Add((await reader.ReadLineAsync(timeout.Token))!);
        Assert.Contains("event: message", lines);
        Assert.Contains("Ada, your cart", lines.Single(l => l.StartsWith("data:", StringComparison.Ordinal)));

        var inbox = await TestServer.OkJsonAsync(await _server.Http.GetAsync($"/inbox?token={token}&unread=true"));
        var item = Assert.Single(inbox.EnumerateArray());
        var read = await _server.Http.PostAsync($"/inbox/read?token={token}", Json($$"""{"ids":[{{item.GetProperty("id").GetInt64()}}]}"""));
        Assert.Equal(1, (await TestServer.OkJsonAsync(read)).GetProperty("marked").GetInt32());
        Assert.Empty((await TestServer.OkJsonAsync(await _server.Http.GetAsync($"/inbox?token={token}&unread=true"))).EnumerateArray());
    }

    [Fact]
    public async Task templates_are_checked_on_save_and_previewed_for_a_customer()
    {
        await IdentifyOptedInAsync("u9");
        var bad = await _server.AdminAsync(HttpMethod.Put, "/api/templates/broken", """{"locales":{"en":{"subject":"x","html":"<p>\n{% if a %}"}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("locales.en.html (line 2, column 1): 'if' is never closed", await bad.Content.ReadAsStringAsync());

        var preview = await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Post, "/api/templates/cart/preview", """{"customerId":"u9","channel":"sms"}"""));
        Assert.Equal(("en", "Cart waiting"), (preview.GetProperty("locale").GetString(), preview.GetProperty("text").GetString()));
        Assert.Empty(_smtp.Messages());
    }

    [Fact]
    public async Task a_cart_coupon_is_issued_into_the_message_and_its_redemption_counts_revenue()
    {
        await IdentifyOptedInAsync("u10");
        await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/coupons/cart24",
            """{"name": "Cart 24h", "kind": "threshold", "threshold": 200, "value": 50, "validDays": 1, "prefix": "CART-"}"""));
        await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/templates/cart-coupon",
            """{"locales": {"en": {"subject": "{{ coupon.description }}", "text": "Use {{ coupon.code }} by {{ coupon.expires_at | local_date: 'yyyy-MM-dd' }}"}}}"""));
        var response = await _server.AdminAsync(HttpMethod.Post, "/api/messages",
            """{"idempotencyKey":"cc1","customerId":"u10","channel":"email","template":"cart-coupon","coupon":"cart24"}""");
        await SettledAsync((await TestServer.OkJsonAsync(response)).GetProperty("id").GetInt64(), "sent");

        var mime = Assert.Single(await _smtp.WaitForAsync(1)).Parse();
        Assert.Equal("50 off orders of 200 or more", mime.Subject);
        var code = Regex.Match(mime.TextBody!, "CART-[A-Z0-9]{10}").Value;
        Assert.Contains("by 2026-11-23", mime.TextBody);

        var order = await _server.PostAsync("/v1/track", $$$"""{"userId":"u10","event":"Order Completed","properties":{"order_id":"o-1","total":260,"coupon":"{{{code}}}"}}""");
        Assert.Equal(HttpStatusCode.OK, order.StatusCode);
        JsonElement stats = default;
        for (var i = 0; i < 200; i++)
        {
            stats = (await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/coupons/cart24"))).GetProperty("stats");
            if (stats.GetProperty("redeemed").GetInt64() == 1) break;
            await Task.Delay(50);
        }

        Assert.Equal((1, 1, 260m), (stats.GetProperty("issued").GetInt64(), stats.GetProperty("redeemed").GetInt64(), stats.GetProperty("revenue").GetDecimal()));
        // One code per customer: a second coupon message is held back with the reason.
        var second = await _server.AdminAsync(HttpMethod.Post, "/api/messages",
            """{"idempotencyKey":"cc2","customerId":"u10","channel":"email","template":"cart-coupon","coupon":"cart24"}""");
        var dropped = await SettledAsync((await TestServer.OkJsonAsync(second)).GetProperty("id").GetInt64(), "dropped");
        Assert.Equal("coupon_limit:cart24", dropped.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task the_recommendation_block_shows_popular_products_in_stock_from_the_customers_top_category()
    {
        foreach (var (id, category, stock) in new[] { ("p1", "母婴", 5), ("p2", "母婴", 0), ("p3", "数码", 9), ("p4", "母婴", 3) })
            await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Put, $"/api/products/{id}", $$"""{"name":"Item {{id}}","category":"{{category}}","price":10,"currency":"CNY","stock":{{stock}}}"""));
        await IdentifyOptedInAsync("u11");
        await IdentifyOptedInAsync("u12");
        for (var i = 0; i < 2; i++)
            await _server.PostAsync("/v1/track", $$"""{"userId":"u11","event":"Product Viewed","properties":{"product_id":"p4","category":"母婴"},"messageId":"v{{i}}"}""");
        await _server.PostAsync("/v1/track", """{"userId":"u12","event":"Order Completed","properties":{"order_id":"o9","products":[{"product_id":"p1","quantity":1},{"product_id":"p2","quantity":1}]}}""");
        await _server.DispatchedAsync();
        await ((PopularProducts)_server.Services.GetService(typeof(PopularProducts))!).RefreshAsync(CancellationToken.None);

        await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/templates/recs",
            """{"locales": {"en": {"subject": "For you", "text": "{% for p in recommendations %}{{ p.name }};{% endfor %}"}}}"""));
        var preview = await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Post, "/api/templates/recs/preview", """{"customerId":"u11"}"""));
        Assert.Equal("Item p1;Item p4;", preview.GetProperty("text").GetString());

        // A recount adds what came since to what was counted before: two more views (4) stay behind the
        // order (5), two more again (6) go ahead of it.
        foreach (var expected in new[] { "Item p1;Item p4;", "Item p4;Item p1;" })
        {
            for (var i = 0; i < 2; i++)
                await _server.PostAsync("/v1/track", $$"""{"userId":"u11","event":"Product Viewed","properties":{"product_id":"p4","category":"母婴"},"messageId":"{{Guid.NewGuid()}}"}""");
            await _server.DispatchedAsync();
            await ((PopularProducts)_server.Services.GetService(typeof(PopularProducts))!).RefreshAsync(CancellationToken.None);
            preview = await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Post, "/api/templates/recs/preview", """{"customerId":"u11"}"""));
            Assert.Equal(expected, preview.GetProperty("text").GetString());
        }
    }

    [Fact]
    public async Task links_in_sms_text_are_tracked_and_a_click_comes_back_as_an_event()
    {
        await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/templates/sms-link",
            """{"locales": {"en": {"subject": "Cart", "html": "<p>Cart</p>", "sms": "Cart waiting: https://shop.example/cart?from=sms"}}}"""));
        await IdentifyOptedInAsync("u14");
        var queued = await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Post, "/api/messages",
            """{"idempotencyKey":"l1","customerId":"u14","channel":"sms","topic":"marketing","template":"sms-link"}"""));
        await SettledAsync(queued.GetProperty("id").GetInt64(), "sent");

        var body = Assert.Single(_sms.Requests).Body;
        Assert.DoesNotContain("shop.example", body);
        var link = Regex.Match(body, @"https?://[^\s""\\]+/t/c/[A-Za-z0-9._~-]+").Value;
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        // The link names the configured public address; this server listens elsewhere.
        var click = await noRedirect.GetAsync(new Uri(_server.Http.BaseAddress!, new Uri(link).PathAndQuery));
        Assert.Equal(HttpStatusCode.Redirect, click.StatusCode);
        Assert.Equal("https://shop.example/cart?from=sms", click.Headers.Location!.ToString());
        await _server.DispatchedAsync();
        var events = await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/customers/u14/events"));
        Assert.Contains(events.GetProperty("events").EnumerateArray(), e => e.GetProperty("name").GetString() == "Message Clicked");
    }

    [Fact]
    public async Task paused_delivery_sends_nothing_until_it_is_resumed_then_sends_what_waited()
    {
        await IdentifyOptedInAsync("u15");
        var worker = (DeliveryWorker)_server.Services.GetService(typeof(DeliveryWorker))!;
        long id;
        using (await worker.PauseAsync(CancellationToken.None))
        {
            id = (await SendAsync("p1", "u15")).GetProperty("id").GetInt64();
            ((OutboxSignal)_server.Services.GetService(typeof(OutboxSignal))!).Pulse();
            await Task.Delay(500);
            Assert.Equal("queued", (await MessageAsync(id)).GetProperty("status").GetString());
        }

        await SettledAsync(id, "sent");
    }

    [Fact]
    public async Task sms_receipts_from_the_provider_come_back_as_events_of_the_message()
    {
        await IdentifyOptedInAsync("u13");
        var id = (await SendAsync("r1", "u13", channel: "sms")).GetProperty("id").GetInt64();
        await SettledAsync(id, "sent");
        var request = Assert.Single(_sms.Requests);
        Assert.Contains("Cart waiting", request.Body);

        var generic = await _server.Http.PostAsync($"/sms/receipts/generic?key={CallbackKey}", Json($$"""{"id":{{id}},"status":"delivered"}"""));
        Assert.Equal(1, (await TestServer.OkJsonAsync(generic)).GetProperty("received").GetInt32());
        var twilio = await _server.Http.PostAsync($"/sms/receipts/twilio?key={CallbackKey}&m={id}",
            new FormUrlEncodedContent([new("MessageSid", "SM1"), new("MessageStatus", "undelivered"), new("ErrorCode", "30003")]));
        Assert.Equal("<Response/>", await twilio.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Http.PostAsync("/sms/receipts/generic?key=wrong", Json("{}"))).StatusCode);

        var events = await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/customers/u13/events"));
        var names = events.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();
        Assert.Contains("SMS Delivered", names);
        Assert.Contains("SMS Failed", names);
    }

    [Fact]
    public async Task a_send_cut_short_by_a_crash_is_dead_as_interrupted_after_restart_and_can_be_sent_again()
    {
        await IdentifyOptedInAsync("u14");
        // The state a crash leaves: decided and being handed over, the outcome never recorded.
        var queued = await _server.Store.EnqueueMessageAsync(new MessageIntent("crash-1", "u14", "email", "transactional", "cart"), _server.Time.GetUtcNow().AddDays(1), CancellationToken.None);
        await _server.Store.UpdateMessagesAsync([new Nudge.Storage.MessageUpdate(queued.Id, "sending", Channel: "email", SentAt: _server.Time.GetUtcNow())], _server.Time.GetUtcNow(), CancellationToken.None);

        _server = await _server.RestartAsync();
        var dead = await MessageAsync(queued.Id);
        Assert.Equal("dead", dead.GetProperty("status").GetString());
        Assert.StartsWith("interrupted", dead.GetProperty("reason").GetString());
        Assert.Empty(_smtp.Messages());

        var requeued = await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Post, "/api/messages/retry-interrupted"));
        Assert.Equal(1, requeued.GetProperty("messages").GetInt32());
        await SettledAsync(queued.Id, "sent");
        Assert.Single(await _smtp.WaitForAsync(1));
    }

    [Fact]
    public async Task a_pool_import_keeps_the_good_codes_and_names_the_bad_ones()
    {
        await IdentifyOptedInAsync("u15");
        await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/coupons/vip10", """{"kind": "percent", "value": 10, "source": "pool"}"""));
        var bad = await _server.AdminAsync(HttpMethod.Put, "/api/coupons/bad", """{"kind": "percent", "value": 150}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("a percentage must be at most 100", await bad.Content.ReadAsStringAsync());

        var request = new HttpRequestMessage(HttpMethod.Post, "/api/coupons/vip10/codes") { Content = new StringContent("VIP-1\nnot a code!\nVIP-2\nVIP-1\n", System.Text.Encoding.UTF8, "text/plain") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestServer.AdminKey);
        var added = await TestServer.OkJsonAsync(await _server.Http.SendAsync(request));
        Assert.Equal(2, added.GetProperty("added").GetInt32());
        Assert.StartsWith("2: 'not a code!'", Assert.Single(added.GetProperty("rejected").EnumerateArray()).GetString());

        var issued = await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Post, "/api/coupons/vip10/issue", """{"customerId": "u15"}"""));
        Assert.Equal("VIP-1", issued.GetProperty("code").GetString());
        var again = await _server.AdminAsync(HttpMethod.Post, "/api/coupons/vip10/issue", """{"customerId": "u15"}""");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("per-customer limit", await again.Content.ReadAsStringAsync());
    }

    private static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
