using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Engine.Customers;
using Nudge.Engine.Segments;
using Nudge.Runtime.Definitions;

namespace Nudge.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class SegmentsApiTests : IAsyncLifetime
{
    private static readonly string[] Categories = ["母婴", "美妆", "运动", "数码", "食品"];
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static Task<JsonElement> JsonAsync(HttpResponseMessage response) => TestServer.OkJsonAsync(response);

    /// <summary>Random shoppers over the last 40 days: views, cart adds and orders at varied times.</summary>
    private async Task<List<string>> ShopAsync(int customers, int seed)
    {
        var random = new Random(seed);
        var now = _server.Time.GetUtcNow();
        var batch = new StringBuilder("""{"batch":[""");
        var n = 0;
        for (var c = 0; c < customers; c++)
        {
            for (var e = random.Next(1, 12); e > 0; e--)
            {
                var at = now.AddDays(-random.Next(0, 40)).AddMinutes(-random.Next(0, 1440)).ToString("O");
                var category = Categories[random.Next(Categories.Length)];
                var (name, properties) = random.Next(4) switch
                {
                    0 => ("Order Completed", $$"""{"order_id":"o{{n}}","total":{{random.Next(20, 900)}}}"""),
                    1 => ("Product Added", $$"""{"product_id":"p{{random.Next(9)}}","price":{{random.Next(5, 99)}},"category":"{{category}}"}"""),
                    _ => ("Product Viewed", $$"""{"product_id":"p{{random.Next(9)}}","category":"{{category}}"}"""),
                };
                if (n > 0) batch.Append(',');
                batch.Append($$"""{"type":"track","userId":"c{{c}}","event":"{{name}}","properties":{{properties}},"timestamp":"{{at}}","messageId":"m{{n++}}"}""");
            }
        }

        Assert.Equal(HttpStatusCode.OK, (await _server.PostAsync("/v1/batch", batch.Append("]}").ToString())).StatusCode);
        await _server.DispatchedAsync();
        return [.. Enumerable.Range(0, customers).Select(c => $"c{c}")];
    }

    private async Task SettledAsync()
    {
        await _server.Services.GetRequiredService<DefinitionSweep>().WhenFinishedAsync();
        await Task.Delay(200); // the last changes written back within the flush interval
    }

    private async Task<HashSet<string>> MembersAsync(string segment)
    {
        var members = await _server.Store.SegmentMembersAsync(segment, null, 10_000, CancellationToken.None);
        return [.. members.Select(m => m.CustomerId)];
    }

    /// <summary>Each customer folded afresh from the log and evaluated now: what the live members must equal.</summary>
    private async Task<HashSet<string>> FromScratchAsync(IEnumerable<string> customers, string segmentId)
    {
        var registry = _server.Services.GetRequiredService<DefinitionsRegistry>();
        var definitions = registry.Current;
        var now = _server.Time.GetUtcNow();
        HashSet<string> members = [];
        foreach (var id in customers)
        {
            var state = new CustomerState(id);
            foreach (var e in await _server.Store.ReadCustomerLogAsync(id, long.MaxValue, CancellationToken.None)) CustomerFold.Apply(state, e, registry.Fold);
            CustomerEvaluator.Evaluate(state, definitions, now, []);
            if (state.Segments.ContainsKey(segmentId)) members.Add(id);
        }

        return members;
    }

    [Fact]
    public async Task a_new_segment_holds_exactly_the_customers_a_from_scratch_evaluation_finds()
    {
        var customers = await ShopAsync(60, seed: 7);
        var preview = await JsonAsync(await _server.AdminAsync(HttpMethod.Post, "/api/segments/preview", """
            {"when":{"event":"Product Viewed","where":{"category":"母婴"},"within_days":7,"count":{"gte":2}}}
            """));

        var saved = await JsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/segments/baby-browsers", """
            {"name":"母婴 browsers","description":"Viewed 母婴 twice in a week","when":{"event":"Product Viewed","where":{"category":"母婴"},"within_days":7,"count":{"gte":2}}}
            """));
        Assert.Equal("母婴 browsers", saved.GetProperty("name").GetString());
        await SettledAsync();

        var expected = await FromScratchAsync(customers, "baby-browsers");
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Order(), (await MembersAsync("baby-browsers")).Order());
        Assert.Equal(expected.Count, preview.GetProperty("count").GetInt32());
        // The defaults too: every live member list equals a from-scratch evaluation.
        foreach (var segment in new[] { "cart-abandoners", "active", "no-order-30d", "champions" })
            Assert.Equal((await FromScratchAsync(customers, segment)).Order(), (await MembersAsync(segment)).Order());
    }

    [Fact]
    public async Task invalid_definitions_are_refused_with_every_problem_named()
    {
        var response = await _server.AdminAsync(HttpMethod.Put, "/api/segments/bad", """{"when":{"all":[{"stat":"ordrs","gte":1},{"event":"Order Completed"}]}}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["$.when.all[0].stat", "$.when.all[1]"], problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("path").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await _server.AdminGetAsync("/api/segments/bad")).StatusCode);

        var mismatched = await _server.AdminAsync(HttpMethod.Put, "/api/segments/a", """{"id":"b","when":{"all":[]}}""");
        Assert.Equal(HttpStatusCode.BadRequest, mismatched.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.AdminAsync(HttpMethod.Put, "/api/segments/a", "[1,2]")).StatusCode);
        var malformed = await _server.AdminAsync(HttpMethod.Put, "/api/segments/a", """{"when":""");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        var preview = await _server.AdminAsync(HttpMethod.Post, "/api/segments/preview", """{"when":{"stage":7}}""");
        Assert.Equal(HttpStatusCode.BadRequest, preview.StatusCode);
        Assert.Contains("$.when.stage", await preview.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.AdminGetAsync("/api/segments/active/members?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.AdminAsync(HttpMethod.Delete, "/api/tags/no_such_rule")).StatusCode);
        // Nothing invalid reached the store: the defaults are all there is.
        Assert.Equal(8, (await JsonAsync(await _server.AdminGetAsync("/api/segments"))).GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.AdminAsync(HttpMethod.Put, "/api/tags/t", """{"kind":"colour","when":{"all":[]}}""")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.AdminAsync(HttpMethod.Put, "/api/lifecycle/stages", """[{"name":"x"}]""")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.AdminAsync(HttpMethod.Put, "/api/rfm/bands", """{"recency_days":[30,7],"frequency_orders":[3,10],"monetary":[300,1000]}""")).StatusCode);
    }

    [Fact]
    public async Task members_page_export_as_csv_and_leave_when_the_segment_is_deleted()
    {
        await ShopAsync(30, seed: 3);
        await JsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/segments/everyone", """{"name":"Everyone","when":{"all":[]}}"""));
        await SettledAsync();

        var first = await JsonAsync(await _server.AdminGetAsync("/api/segments/everyone/members?limit=20"));
        var second = await JsonAsync(await _server.AdminGetAsync($"/api/segments/everyone/members?limit=20&after={first.GetProperty("next").GetString()}"));
        Assert.Equal(30, first.GetProperty("members").GetArrayLength() + second.GetProperty("members").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, second.TryGetProperty("next", out var next) ? next.ValueKind : JsonValueKind.Null);

        var csv = await (await _server.AdminGetAsync("/api/segments/everyone/members.csv")).Content.ReadAsStringAsync();
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("customer_id,since", lines[0]);
        Assert.Equal(31, lines.Length);

        Assert.Equal(30, (await JsonAsync(await _server.AdminGetAsync("/api/segments/everyone"))).GetProperty("members").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, (await _server.AdminAsync(HttpMethod.Delete, "/api/segments/everyone")).StatusCode);
        await SettledAsync();
        Assert.Empty(await MembersAsync("everyone"));
        Assert.Contains(await _server.Store.CustomerChangesAsync("c0", 50, CancellationToken.None), c => c is { Kind: ChangeKinds.SegmentLeft, Name: "everyone" });
        Assert.Equal(HttpStatusCode.NotFound, (await _server.AdminGetAsync("/api/segments/everyone/members")).StatusCode);
    }

    [Fact]
    public async Task a_new_tag_rule_tags_existing_customers_and_segments_can_use_it()
    {
        await ShopAsync(20, seed: 11);
        await JsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/tags/big_spender",
            """{"kind":"transaction","description":"Spent over 500","when":{"stat":"revenue","gt":500}}"""));
        await JsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/segments/big-spenders", """{"when":{"tag":"big_spender"}}"""));
        await SettledAsync();

        var expected = await FromScratchAsync(Enumerable.Range(0, 20).Select(c => $"c{c}"), "big-spenders");
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Order(), (await MembersAsync("big-spenders")).Order());
        var rules = await JsonAsync(await _server.AdminGetAsync("/api/tags"));
        Assert.Contains(rules.EnumerateArray(), r => r.GetProperty("name").GetString() == "big_spender");
    }
    [Fact]
    public async Task a_definition_change_goes_through_the_grains_of_only_the_customers_it_touches()
    {
        var customers = await ShopAsync(40, seed: 5);
        await _server.Services.GetRequiredService<Nudge.Runtime.Customers.StateWriter>().FlushAsync(null, CancellationToken.None);
        var before = await StoredStatesAsync();
        Assert.Equal(40, before.Count);

        await JsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/segments/repeat-buyers", """{"when":{"stat":"orders","gte":2}}"""));
        await SettledAsync();

        var expected = await FromScratchAsync(customers, "repeat-buyers");
        Assert.NotEmpty(expected);
        Assert.NotEqual(40, expected.Count);
        Assert.Equal(expected.Order(), (await MembersAsync("repeat-buyers")).Order());
        var after = await StoredStatesAsync();
        // The customers who entered were evaluated and written by their grain; nobody else was written at all.
        foreach (var id in customers)
        {
            if (expected.Contains(id)) Assert.NotEqual(before[id], after[id]);
            else Assert.Equal(before[id], after[id]);
        }

        var evaluation = (await JsonAsync(await _server.AdminGetAsync("/api/segments/repeat-buyers"))).GetProperty("evaluation");
        Assert.True(evaluation.GetProperty("finished").GetBoolean());
        Assert.Equal(40, evaluation.GetProperty("done").GetInt64());
        Assert.Equal(40, evaluation.GetProperty("total").GetInt64());
        Assert.Equal(expected.Count, evaluation.GetProperty("changed").GetInt64());
        Assert.Equal(0, evaluation.GetProperty("failed").GetInt64());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task a_new_time_condition_is_due_at_its_own_time_for_customers_it_does_not_hold_yet(bool onlySegmentsChangedSinceTheLastSweep)
    {
        // The first change after start evaluates every definition; later segment changes only those segments.
        if (onlySegmentsChangedSinceTheLastSweep)
        {
            await JsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/segments/anyone", """{"when":{"all":[]}}"""));
            await SettledAsync();
        }

        var ordered = _server.Time.GetUtcNow().AddDays(-10);
        Assert.Equal(HttpStatusCode.OK, (await _server.PostAsync("/v1/track",
            $$"""{"userId":"t1","event":"Order Completed","properties":{"order_id":"o1","total":80},"timestamp":"{{ordered:O}}","messageId":"t1-o1"}""")).StatusCode);
        await _server.DispatchedAsync();

        // Nothing the defaults test is due before day 30; this segment is due on day 12.
        await JsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/segments/quiet-12d", """{"when":{"stat":"days_since_last_order","gte":12}}"""));
        await SettledAsync();
        Assert.Empty(await MembersAsync("quiet-12d"));

        _server.Time.Advance(TimeSpan.FromDays(2).Add(TimeSpan.FromMinutes(1)));
        for (var i = 0; i < 600 && (await MembersAsync("quiet-12d")).Count == 0; i++) await Task.Delay(50);
        var entered = (await _server.Store.CustomerChangesAsync("t1", 50, CancellationToken.None)).Single(c => c is { Kind: ChangeKinds.SegmentEntered, Name: "quiet-12d" });
        Assert.InRange((entered.At - ordered.AddDays(12)).TotalSeconds, 0, 1);
    }

    [Fact]
    public async Task later_segment_changes_move_exactly_the_customers_a_from_scratch_evaluation_moves()
    {
        var customers = await ShopAsync(50, seed: 9);
        // The first change evaluates every definition; the ones after it, only the segments changed since.
        await JsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/segments/spenders", """{"when":{"stat":"revenue","gt":200}}"""));
        await SettledAsync();
        var wide = await FromScratchAsync(customers, "spenders");
        Assert.Equal(wide.Order(), (await MembersAsync("spenders")).Order());

        // Narrowed: exactly those who no longer qualify go through their grain, and leave.
        await JsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/segments/spenders", """{"when":{"stat":"revenue","gt":900}}"""));
        await SettledAsync();
        var narrow = await FromScratchAsync(customers, "spenders");
        Assert.NotEqual(wide.Count, narrow.Count);
        Assert.Equal(narrow.Order(), (await MembersAsync("spenders")).Order());
        Assert.Equal(wide.Count - narrow.Count, await ChangedAsync("spenders"));

        // Two saves in a row: the second sweep covers both.
        await JsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/segments/viewers", """{"when":{"stat":"product_views","gte":3}}"""));
        await JsonAsync(await _server.AdminAsync(HttpMethod.Put, "/api/segments/spenders", """{"when":{"stat":"revenue","gt":400}}"""));
        await SettledAsync();
        var viewers = await FromScratchAsync(customers, "viewers");
        Assert.NotEmpty(viewers);
        Assert.Equal(viewers.Order(), (await MembersAsync("viewers")).Order());
        Assert.Equal((await FromScratchAsync(customers, "spenders")).Order(), (await MembersAsync("spenders")).Order());
    }

    private async Task<long> ChangedAsync(string segment)
    {
        var evaluation = (await JsonAsync(await _server.AdminGetAsync($"/api/segments/{segment}"))).GetProperty("evaluation");
        Assert.Equal(evaluation.GetProperty("total").GetInt64(), evaluation.GetProperty("done").GetInt64());
        return evaluation.GetProperty("changed").GetInt64();
    }

    private async Task<Dictionary<string, string>> StoredStatesAsync()
    {
        Dictionary<string, string> states = new(StringComparer.Ordinal);
        await foreach (var bytes in _server.Store.ScanStatesAsync(CancellationToken.None)) states[CustomerStateCodec.CustomerId(bytes)] = Convert.ToBase64String(bytes);
        return states;
    }
}
