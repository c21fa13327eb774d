using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Runtime.Definitions;

namespace Nudge.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class DefinitionsTests
{
    private static string TempFile(string text, string extension = ".json")
    {
        var path = Path.Combine(Path.GetTempPath(), $"nudge-definitions-{Guid.NewGuid():N}{extension}");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task definitions_can_be_written_in_yaml()
    {
        var file = TempFile("""
            # Reviewed in git like any other file
            segments:
              - id: baby-browsers
                name: "母婴 browsers"
                when:
                  event: Product Viewed
                  where: { category: 母婴 }
                  within_days: 7
                  count: { gte: 3 }
            tags:
              - name: big_spender
                kind: transaction
                when: { stat: revenue, gt: 5000 }
            """, ".yaml");
        await using var server = await TestServer.StartAsync(o => o with { Runtime = o.Runtime with { DefinitionsFile = file } });
        var segments = JsonDocument.Parse(await (await server.AdminGetAsync("/api/segments")).Content.ReadAsStringAsync()).RootElement;
        var segment = Assert.Single(segments.EnumerateArray());
        Assert.Equal(("baby-browsers", "母婴 browsers"), (segment.GetProperty("id").GetString(), segment.GetProperty("name").GetString()));
        Assert.Equal(3, segment.GetProperty("definition").GetProperty("when").GetProperty("count").GetProperty("gte").GetInt32());
        var tags = JsonDocument.Parse(await (await server.AdminGetAsync("/api/tags")).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["big_spender"], tags.EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        File.Delete(file);
    }

    [Fact]
    public async Task malformed_yaml_is_refused_with_line_and_column()
    {
        var file = TempFile("segments:\n  - id: a\n   when: [", ".yml");
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => TestServer.StartAsync(o => o with { Runtime = o.Runtime with { DefinitionsFile = file } }));
        Assert.Matches(@"\.yml:\d+:\d+: not valid YAML", e.Message);
        File.Delete(file);
    }

    [Fact]
    public async Task a_definitions_file_replaces_the_kinds_it_has_at_start()
    {
        var file = TempFile("""
            // Our shop's segments
            { "segments": [ { "id": "big", "name": "Big spenders", "when": { "stat": "revenue", "gt": 5000 } }, ] }
            """);
        await using var server = await TestServer.StartAsync(o => o with { Runtime = o.Runtime with { DefinitionsFile = file } });
        var segments = JsonDocument.Parse(await (await server.AdminGetAsync("/api/segments")).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["big"], segments.EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        // Kinds the file leaves out keep the defaults.
        var tags = JsonDocument.Parse(await (await server.AdminGetAsync("/api/tags")).Content.ReadAsStringAsync()).RootElement;
        Assert.Contains(tags.EnumerateArray(), t => t.GetProperty("name").GetString() == "repeat_buyer");
        File.Delete(file);
    }

    [Fact]
    public async Task an_invalid_definitions_file_stops_the_start_naming_file_path_and_problem()
    {
        var file = TempFile("""{ "segments": [ { "id": "a", "when": { "all": [ { "stat": "ordrs", "gte": 1 } ] } } ], "colours": [] }""");
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => TestServer.StartAsync(o => o with { Runtime = o.Runtime with { DefinitionsFile = file } }));
        Assert.Contains(file, e.Message, StringComparison.Ordinal);
        Assert.Contains("$.segments[0].when.all[0].stat: unknown stat 'ordrs'", e.Message, StringComparison.Ordinal);
        Assert.Contains("$.colours: is not a kind of definition", e.Message, StringComparison.Ordinal);
        File.Delete(file);
    }

    [Fact]
    public async Task rfm_quintile_cut_points_are_computed_from_the_customers()
    {
        await using var server = await TestServer.StartAsync();
        for (var c = 1; c <= 10; c++)
        {
            for (var o = 0; o < c; o++)
                await server.PostAsync("/v1/track", $$"""{"userId":"c{{c}}","event":"Order Completed","properties":{"order_id":"c{{c}}o{{o}}","total":{{c * 100}}},"messageId":"c{{c}}o{{o}}"}""");
        }

        await server.DispatchedAsync();
        var quintiles = await server.Services.GetRequiredService<RfmQuintilesJob>().RecomputeAsync(CancellationToken.None);
        Assert.Equal(10, quintiles.Customers);
        Assert.Equal([2, 4, 6, 8], quintiles.Frequency);
        var rfm = JsonDocument.Parse(await (await server.AdminGetAsync("/api/rfm")).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(10, rfm.GetProperty("quintiles").GetProperty("customers").GetInt32());
    }
}
