using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Storage;

namespace Nudge.Server.Tests;

/// <summary>Journeys end to end: saved through the API, triggered by events through /v1, run by customer grains on virtual time.</summary>
[Collection(ServerCollection.Name)]
public sealed class JourneyTests : IAsyncLifetime
{
    private const string AbandonedCart = """
        id: abandoned-cart
        name: Abandoned cart
        trigger:
          event: Product Added
        reentry: always
        exit_when:
          - event: Order Completed
        steps:
          - id: wait-1h
            wait: 1h
          - id: reminder
            send: {channel: best, template: cart}
          - id: wait-24h
            wait: 23h
          - id: coupon
            send: {channel: best, template: cart, coupon: cart-24h}
          - id: follow-up
            task: {title: Call about the cart, queue: service}
        """;

    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/templates/cart", """{"locales": {"en": {"title": "Your cart", "body": "{{ data.name }} is waiting"}}}"""));
        await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/coupons/cart-24h", """{"name": "10 off", "kind": "amount", "value": 10, "source": "generated", "validDays": 3}"""));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<HttpResponseMessage> PutYamlAsync(string path, string yaml)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = new StringContent(yaml, Encoding.UTF8, "application/yaml") };
        request.Headers.Authorization = new("Bearer", TestServer.AdminKey);
        return _server.Http.SendAsync(request);
    }

    private async Task TrackAsync(string user, string name, string properties, string messageId)
    {
        var response = await _server.PostAsync("/v1/track", $$"""{"userId":"{{user}}","event":"{{name}}","properties":{{properties}},"messageId":"{{messageId}}"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await _server.DispatchedAsync();
    }

    private async Task<List<MessageRecord>> MessagesAsync(string user) =>
        [.. (await _server.Store.ListMessagesAsync(user, null, null, 100, CancellationToken.None)).OrderBy(m => m.Id)];

    /// <summary>Advances virtual time and waits (30 s of real time at most) until the condition holds.</summary>
    private async Task AdvanceAsync(TimeSpan by, Func<Task<bool>> until)
    {
        _server.Time.Advance(by);
        for (var i = 0; i < 600 && !await until(); i++) await Task.Delay(50);
        Assert.True(await until(), "the expected journey step did not happen within 30 s of real time: " + string.Join("\n", _server.Logs.TakeLast(20)));
    }

    [Fact]
    public async Task abandoned_cart_sends_a_reminder_after_1_hour_and_a_coupon_at_24_hours_then_opens_a_staff_task()
    {
        var saved = await PutYamlAsync("/api/journeys/abandoned-cart", AbandonedCart);
        Assert.Equal(HttpStatusCode.Created, saved.StatusCode);
        var added = _server.Time.GetUtcNow();
        await TrackAsync("u1", "Product Added", """{"product_id":"p1","name":"Stroller","price":899}""", "a1");
        Assert.Empty(await MessagesAsync("u1"));

        await AdvanceAsync(TimeSpan.FromHours(1), async () => (await MessagesAsync("u1")).Count == 1);
        var reminder = (await MessagesAsync("u1"))[0];
        // Named by the triggering event's log position: the same key on any replay.
        var position = (await _server.Store.GetCustomerEventsAsync("u1", null, 1, CancellationToken.None))[0].Position;
        Assert.Equal(($"j:abandoned-cart:1:u1:e{position}:reminder", added.AddHours(1)), (reminder.Intent.IdempotencyKey, reminder.CreatedAt));
        Assert.Contains("Stroller", reminder.Intent.DataJson, StringComparison.Ordinal);

        await AdvanceAsync(TimeSpan.FromHours(22), async () => true);
        Assert.Single(await MessagesAsync("u1"));
        await AdvanceAsync(TimeSpan.FromHours(1), async () => (await MessagesAsync("u1")).Count == 2);
        var coupon = (await MessagesAsync("u1"))[1];
        Assert.Equal(($"j:abandoned-cart:1:u1:e{position}:coupon", "cart-24h", added.AddHours(24)), (coupon.Intent.IdempotencyKey, coupon.Intent.CouponCampaign, coupon.CreatedAt));

        // The task step runs right after the coupon's intent is durable.
        await AdvanceAsync(TimeSpan.Zero, async () => (await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/tasks"))).GetArrayLength() == 1);
        var task = (await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/tasks")))[0];
        Assert.Equal(("u1", "Call about the cart", "abandoned-cart"), (task.GetProperty("customerId").GetString(), task.GetProperty("title").GetString(), task.GetProperty("journeyId").GetString()));
        var done = await _server.AdminAsync(HttpMethod.Post, $"/api/tasks/{task.GetProperty("id").GetInt64()}/done", """{"by": "Li Lei"}""");
        Assert.Equal("Li Lei", (await TestServer.OkJsonAsync(done)).GetProperty("doneBy").GetString());
        Assert.Equal(0, (await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/tasks"))).GetArrayLength());

        // Activity is written with the customer's state, a moment after the step's effects.
        await AdvanceAsync(TimeSpan.Zero, async () =>
            (await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/journeys/abandoned-cart/stats"))).GetProperty("ended").TryGetProperty("completed", out _));
        var stats = await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/journeys/abandoned-cart/stats"));
        Assert.Equal((1, 0, 1), (stats.GetProperty("entered").GetInt64(), stats.GetProperty("waiting").GetInt64(), stats.GetProperty("steps").GetProperty("coupon").GetInt64()));
        var customer = await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/customers/u1"));
        var history = customer.GetProperty("journeys").GetProperty("history").EnumerateArray().Select(h => h.GetProperty("kind").GetString()).ToList();
        Assert.Equal("ended", history[0]);
        Assert.Contains("entered", history);
    }

    [Fact]
    public async Task an_order_ends_the_abandoned_cart_journey_and_nothing_more_is_sent()
    {
        await TestServer.OkJsonAsync(await PutYamlAsync("/api/journeys/abandoned-cart", AbandonedCart));
        await TrackAsync("u2", "Product Added", """{"product_id":"p1"}""", "a1");
        await AdvanceAsync(TimeSpan.FromHours(1), async () => (await MessagesAsync("u2")).Count == 1);
        await TrackAsync("u2", "Order Completed", """{"order_id":"o1","total":899}""", "o1");
        var customer = await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/customers/u2"));
        Assert.Equal(0, customer.GetProperty("journeys").GetProperty("active").GetArrayLength());
        _server.Time.Advance(TimeSpan.FromDays(2));
        await Task.Delay(500);
        Assert.Single(await MessagesAsync("u2"));
        var stats = await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/journeys/abandoned-cart/stats"));
        Assert.Equal(1, stats.GetProperty("ended").GetProperty("exit:Order Completed").GetInt64());
    }

    [Fact]
    public async Task an_invalid_journey_is_refused_with_every_problem_at_its_line_and_column()
    {
        var response = await PutYamlAsync("/api/journeys/broken", """
            id: broken
            trigger:
              event: Product Added
            steps:
              - id: a
                wait: {}
              - id: b
                send: {channel: email, template: missing}
              - id: c
                branch:
                  - when: {tag: vip}
                    next: a
            """);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problems = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("problems").EnumerateArray()
            .Select(p => $"{p.GetProperty("line").GetInt32()}:{p.GetProperty("column").GetInt32()} {p.GetProperty("path").GetString()}").ToList();
        Assert.Contains("6:5 $.steps[0].wait", problems);
        Assert.Contains(problems, p => p.EndsWith("$.steps[1].send.channel", StringComparison.Ordinal)); // email is not configured here
        Assert.Contains("8:28 $.steps[1].send.template", problems);
        Assert.Contains("9:5 $.steps[2]", problems);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.AdminGetAsync("/api/journeys/broken")).StatusCode);
    }

    [Fact]
    public async Task editing_a_journey_makes_a_new_version_and_saving_the_same_document_does_not()
    {
        Assert.Equal(HttpStatusCode.Created, (await PutYamlAsync("/api/journeys/abandoned-cart", AbandonedCart)).StatusCode);
        var again = await TestServer.OkJsonAsync(await PutYamlAsync("/api/journeys/abandoned-cart", AbandonedCart));
        Assert.Equal((1, false), (again.GetProperty("version").GetInt32(), again.GetProperty("created").GetBoolean()));
        var edited = await PutYamlAsync("/api/journeys/abandoned-cart", AbandonedCart.Replace("wait: 1h", "wait: 2h", StringComparison.Ordinal));
        Assert.Equal(2, (await TestServer.OkJsonAsync(edited)).GetProperty("version").GetInt32());
        var journey = await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/journeys/abandoned-cart"));
        Assert.Equal([1, 2], journey.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
        Assert.Equal("2h", journey.GetProperty("document").GetProperty("steps")[0].GetProperty("wait").GetString());
        var mismatch = await PutYamlAsync("/api/journeys/other", AbandonedCart);
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        Assert.Contains("the URL says 'other'", await mismatch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_backtest_replays_the_stored_history_and_reports_steps_and_messages_without_sending_anything()
    {
        var now = _server.Time.GetUtcNow();
        async Task At(string user, string name, string properties, DateTimeOffset at) => Assert.Equal(HttpStatusCode.OK, (await _server.PostAsync("/v1/track",
            $$"""{"userId":"{{user}}","event":"{{name}}","properties":{{properties}},"timestamp":"{{at:O}}"}""")).StatusCode);
        // u1 leaves a cart; u2 leaves one and orders 30 minutes later; u3 only browses; u4's cart is from before the period.
        await At("u1", "Product Added", """{"product_id":"p1","price":50}""", now.AddDays(-10));
        await At("u2", "Product Added", """{"product_id":"p1","price":50}""", now.AddDays(-9));
        await At("u2", "Order Completed", """{"order_id":"o1","total":50}""", now.AddDays(-9).AddMinutes(30));
        await At("u3", "Product Viewed", """{"product_id":"p1"}""", now.AddDays(-8));
        await At("u4", "Product Added", """{"product_id":"p1","price":50}""", now.AddDays(-40));
        await _server.DispatchedAsync();

        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/journeys/backtest?from={Uri.EscapeDataString(now.AddDays(-30).ToString("O"))}&to={Uri.EscapeDataString(now.ToString("O"))}")
        {
            Content = new StringContent(AbandonedCart, Encoding.UTF8, "application/yaml"),
        };
        request.Headers.Authorization = new("Bearer", TestServer.AdminKey);
        var report = await TestServer.OkJsonAsync(await _server.Http.SendAsync(request));
        Assert.Equal((4, 2), (report.GetProperty("customers").GetInt64(), report.GetProperty("entered").GetInt64()));
        var steps = report.GetProperty("steps");
        Assert.Equal((2, 1, 1), (steps.GetProperty("wait-1h").GetInt64(), steps.GetProperty("reminder").GetInt64(), steps.GetProperty("coupon").GetInt64()));
        Assert.Equal(2, report.GetProperty("messages").GetProperty("best").GetInt64());
        Assert.Equal(1, report.GetProperty("ended").GetProperty("exit:Order Completed").GetInt64());
        Assert.Empty(await _server.Store.ListMessagesAsync(null, null, null, 10, CancellationToken.None));
        Assert.Equal(0, (await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/tasks"))).GetArrayLength());
    }

    [Fact]
    public async Task a_scheduled_journey_reaches_its_customers_at_its_time_once_and_its_steps_issue_coupons_set_traits_and_tags()
    {
        await _server.PostAsync("/v1/identify", """{"userId":"hz","traits":{"city":"杭州"},"messageId":"i1"}""");
        await _server.PostAsync("/v1/identify", """{"userId":"bj","traits":{"city":"北京"},"messageId":"i2"}""");
        await _server.DispatchedAsync();
        var at = _server.Time.GetUtcNow().AddHours(1);
        await TestServer.OkJsonAsync(await PutYamlAsync("/api/journeys/spring", $$$"""
            id: spring
            trigger:
              schedule: {at: "{{{at:yyyy-MM-ddTHH:mm:ssZ}}}", when: {trait: city, eq: 杭州}}
            steps:
              - {id: gift, coupon: cart-24h}
              - {id: mark, update: {set_traits: {promo: spring}, add_tags: [spring-promo]}}
              - {id: hello, send: {channel: best, template: cart}}
            """));

        await AdvanceAsync(TimeSpan.FromHours(1), async () => (await MessagesAsync("hz")).Count == 1);
        Assert.Equal($"j:spring:1:hz:s{DateTimeOffset.Parse(at.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds()}:hello",
            (await MessagesAsync("hz"))[0].Intent.IdempotencyKey);
        Assert.Empty(await MessagesAsync("bj"));
        var coupon = Assert.Single(await _server.Store.CustomerCouponsAsync("hz", CancellationToken.None));
        Assert.Equal("cart-24h", coupon.CampaignId);
        await AdvanceAsync(TimeSpan.FromSeconds(1), async () =>
        {
            await _server.DispatchedAsync();
            var customer = await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/customers/hz"));
            return customer.GetProperty("traits").TryGetProperty("promo", out _) && customer.GetProperty("insights").GetProperty("tags").TryGetProperty("spring-promo", out _);
        });

        // The next look at the schedule finds the occurrence done: nobody enters twice.
        _server.Time.Advance(TimeSpan.FromMinutes(5));
        await Task.Delay(300);
        Assert.Single(await MessagesAsync("hz"));
        Assert.Single(await _server.Store.CustomerCouponsAsync("hz", CancellationToken.None));
    }

    [Fact]
    public async Task a_step_that_fails_leaves_nothing_of_its_call_behind_and_the_retry_runs_it_once()
    {
        // The first staff task the store is asked for fails; the customer's call fails with it.
        await using var server = await TestServer.StartAsync(build: b =>
        {
            var store = (INudgeStore)b.Services.Last(d => d.ServiceType == typeof(INudgeStore)).ImplementationInstance!;
            b.Services.AddSingleton(FailingStore.Wrap(store, nameof(INudgeStore.AddStaffTaskAsync), failOnCall: 1));
        });
        var request = new HttpRequestMessage(HttpMethod.Put, "/api/journeys/thank-you")
        {
            Content = new StringContent("""
                id: thank-you
                trigger: {event: Order Completed}
                steps:
                  - id: call
                    task: {title: Say thank you, queue: service}
                """, Encoding.UTF8, "application/yaml"),
        };
        request.Headers.Authorization = new("Bearer", TestServer.AdminKey);
        await TestServer.OkJsonAsync(await server.Http.SendAsync(request));

        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync("/v1/track", """{"userId":"u1","event":"Order Completed","properties":{"order_id":"o1","total":80},"messageId":"o1"}""")).StatusCode);
        await server.DispatchedAsync();

        // The round was retried from the last state handed on: the order counts once, the journey was
        // entered once, and its step ran once, though the failed call had already applied all of it.
        Assert.Contains(server.Logs, l => l.Contains("(attempt 1)", StringComparison.Ordinal));
        var customer = await TestServer.OkJsonAsync(await server.AdminGetAsync("/api/customers/u1"));
        Assert.Equal(1, customer.GetProperty("insights").GetProperty("stats").GetProperty("orders").GetInt32());
        var task = Assert.Single((await TestServer.OkJsonAsync(await server.AdminGetAsync("/api/tasks"))).EnumerateArray());
        Assert.Equal("Say thank you", task.GetProperty("title").GetString());
        for (var i = 0; i < 100 && !(await TestServer.OkJsonAsync(await server.AdminGetAsync("/api/journeys/thank-you/stats"))).GetProperty("ended").TryGetProperty("completed", out _); i++)
            await Task.Delay(50);
        var stats = await TestServer.OkJsonAsync(await server.AdminGetAsync("/api/journeys/thank-you/stats"));
        Assert.Equal((1, 1L), (stats.GetProperty("entered").GetInt64(), stats.GetProperty("ended").GetProperty("completed").GetInt64()));
    }

    [Fact]
    public async Task a_price_drop_on_a_favourited_item_starts_the_journey_with_that_product_and_a_rise_does_not()
    {
        await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/products/p1", """{"productId":"p1","name":"Stroller","price":1000,"currency":"CNY","stock":5}"""));
        await TestServer.OkJsonAsync(await PutYamlAsync("/api/journeys/price-drop", """
            id: price-drop
            trigger: {catalog: price_drop, items: [favourited], min_drop_percent: 5}
            reentry: always
            steps:
              - {id: alert, send: {channel: best, template: cart}}
            """));
        await TrackAsync("fan", "Product Added to Wishlist", """{"product_id":"p1"}""", "w1");
        await TrackAsync("viewer", "Product Viewed", """{"product_id":"p1"}""", "v1");

        await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/products/p1", """{"productId":"p1","name":"Stroller","price":1100,"currency":"CNY","stock":5}"""));
        await TestServer.OkJsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/products/p1", """{"productId":"p1","name":"Stroller","price":899,"currency":"CNY","stock":5}"""));
        await AdvanceAsync(TimeSpan.Zero, async () => (await MessagesAsync("fan")).Count == 1);
        var data = JsonDocument.Parse((await MessagesAsync("fan"))[0].Intent.DataJson!).RootElement;
        Assert.Equal(("p1", 899m, 1100m, "favourited"), (data.GetProperty("product_id").GetString(), data.GetProperty("price").GetDecimal(),
            data.GetProperty("previous_price").GetDecimal(), data.GetProperty("relation").GetString()));
        Assert.Empty(await MessagesAsync("viewer"));

        // The runtime writes who touched the product with their states: read with the whole log counted
        // as written back, the interest table alone finds both customers.
        await AdvanceAsync(TimeSpan.Zero, async () => (await _server.Store.CustomersInterestedInAsync(
            "p1", _server.Time.GetUtcNow().AddDays(-1), long.MaxValue, CancellationToken.None)).Select(i => i.CustomerId).Order(StringComparer.Ordinal).SequenceEqual(["fan", "viewer"]));
    }

    [Fact]
    public async Task malformed_oversize_or_invalid_edits_are_refused_and_the_live_version_stays()
    {
        await TestServer.OkJsonAsync(await PutYamlAsync("/api/journeys/abandoned-cart", AbandonedCart));

        var malformed = await PutYamlAsync("/api/journeys/abandoned-cart", "id: abandoned-cart\nsteps: [unclosed\n");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        var problem = JsonDocument.Parse(await malformed.Content.ReadAsStringAsync()).RootElement.GetProperty("problems")[0];
        Assert.StartsWith("not valid YAML", problem.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(problem.GetProperty("line").GetInt32() >= 2);

        var oversize = await PutYamlAsync("/api/journeys/abandoned-cart", AbandonedCart + "\n# " + new string('x', 300 * 1024));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, oversize.StatusCode);

        var wrongType = await _server.AdminAsync(HttpMethod.Put, "/api/journeys/abandoned-cart", """{"id": "abandoned-cart", "trigger": {"event": 42}, "steps": "none"}""");
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        var text = await wrongType.Content.ReadAsStringAsync();
        Assert.Contains("$.trigger.event: must be a non-empty string", text, StringComparison.Ordinal);
        Assert.Contains("$.steps: must be a non-empty list of steps", text, StringComparison.Ordinal);

        var journey = await TestServer.OkJsonAsync(await _server.AdminGetAsync("/api/journeys/abandoned-cart"));
        Assert.Equal(1, journey.GetProperty("version").GetInt32());
        Assert.Single(journey.GetProperty("versions").EnumerateArray());
    }

    [Fact]
    public async Task a_journeys_folder_with_problems_is_reported_file_by_file_and_nothing_of_it_is_loaded()
    {
        var folder = Directory.CreateTempSubdirectory("nudge-journeys-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(folder, "templates"));
            Directory.CreateDirectory(Path.Combine(folder, "coupons"));
            File.WriteAllText(Path.Combine(folder, "good.yaml"), AbandonedCart.Replace("template: cart", "template: hello", StringComparison.Ordinal).Replace("coupon: cart-24h", "coupon: ten", StringComparison.Ordinal));
            File.WriteAllText(Path.Combine(folder, "bad.yaml"), "id: bad\ntrigger: {event: Signed Up}\nsteps:\n  - {id: a, wait: forever}\n");
            File.WriteAllText(Path.Combine(folder, "templates", "hello.yaml"), "locales:\n  en: {subject: Hi, text: \"{{ customer.first_name \"}\n");
            File.WriteAllText(Path.Combine(folder, "coupons", "ten.yaml"), "kind: amount\n");
            var references = new Nudge.Engine.Journeys.JourneyReferences(new HashSet<string>(), new HashSet<string>(), new HashSet<string>(), new HashSet<string> { "email" });
            var pack = await Nudge.Runtime.Journeys.JourneyPack.ReadAsync(folder, references, CancellationToken.None);
            var problems = pack.Problems.Select(p => p.ToString()).ToList();
            Assert.Contains(problems, p => p.StartsWith(Path.Combine(folder, "bad.yaml") + ":4:", StringComparison.Ordinal) && p.Contains("$.steps[0].wait", StringComparison.Ordinal));
            Assert.Contains(problems, p => p.StartsWith(Path.Combine(folder, "templates", "hello.yaml"), StringComparison.Ordinal));
            Assert.Contains(problems, p => p.StartsWith(Path.Combine(folder, "coupons", "ten.yaml"), StringComparison.Ordinal) && p.Contains("value", StringComparison.Ordinal));

            // The server refuses to start on it, listing every problem, and loads none of the folder.
            var start = await Assert.ThrowsAsync<InvalidDataException>(() => TestServer.StartAsync(o => o with { Runtime = o.Runtime with { JourneysDirectory = folder } }));
            Assert.Contains("bad.yaml:4:", start.Message, StringComparison.Ordinal);
            Assert.Contains("nothing was loaded", start.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
