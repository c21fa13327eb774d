using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Engine.Customers;
using Nudge.Runtime.Customers;
using Nudge.Runtime.Definitions;
using Orleans;

namespace Nudge.Server.Tests;

/// <summary>
/// Property, through the real runtime: for random event streams — out-of-order timestamps, repeated
/// orders, refunds, anonymous visitors identified later, one customer aliased into another — every
/// customer's live state equals a fold of their log from scratch; and after a crash that lost the
/// checkpoint, replaying the log changes nothing.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class RuntimePropertyTests
{
    private static readonly string[] Names = ["Product Viewed", "Product Added", "Product Removed", "Order Completed", "Order Refunded"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task live_customers_equal_a_fold_of_their_log_and_a_replay_changes_nothing(int seed)
    {
        var server = await TestServer.StartAsync();
        try
        {
            var random = new Random(seed);
            var users = Enumerable.Range(0, 8).Select(i => $"u{i}").ToList();
            var now = server.Time.GetUtcNow();
            var n = 0;
            for (var batch = 0; batch < 6; batch++)
            {
                var body = new StringBuilder("""{"batch":[""");
                for (var i = 0; i < 40; i++, n++)
                {
                    if (i > 0) body.Append(',');
                    var at = now.AddDays(-random.Next(0, 60)).AddMinutes(random.Next(1440)).ToString("O", CultureInfo.InvariantCulture);
                    var user = users[random.Next(users.Count)];
                    var anonymous = $"anon{random.Next(6)}";
                    var ids = random.Next(5) switch
                    {
                        0 => $"\"anonymousId\":\"{anonymous}\"",                        // a visitor nobody knows yet
                        1 => $"\"userId\":\"{user}\",\"anonymousId\":\"{anonymous}\"",  // identified: joins the visitor's history
                        _ => $"\"userId\":\"{user}\"",
                    };
                    var name = Names[random.Next(Names.Length)];
                    var order = $"o{random.Next(12)}";
                    var properties = name switch
                    {
                        "Order Completed" => $$"""{"order_id":"{{order}}","total":{{random.Next(10, 500)}}}""",
                        "Order Refunded" => random.Next(2) == 0 ? $$"""{"order_id":"{{order}}"}""" : $$"""{"order_id":"{{order}}","total":{{random.Next(1, 100)}}}""",
                        _ => $$"""{"product_id":"p{{random.Next(5)}}","price":{{random.Next(5, 90)}},"category":"c{{random.Next(3)}}"}""",
                    };
                    body.Append($$"""{"type":"track",{{ids}},"event":"{{name}}","properties":{{properties}},"timestamp":"{{at}}","messageId":"m{{n}}"}""");
                }

                Assert.Equal(HttpStatusCode.OK, (await server.PostAsync("/v1/batch", body.Append("]}").ToString())).StatusCode);
                if (batch == 3)
                {
                    // One customer turns out to be another: u0's history moves to u1.
                    Assert.Equal(HttpStatusCode.OK, (await server.PostAsync("/v1/alias", """{"userId":"u1","previousId":"u0","messageId":"merge"}""")).StatusCode);
                    users.Remove("u0");
                }

                if (random.Next(2) == 0) await server.DispatchedAsync();
            }

            await server.DispatchedAsync();
            var live = await FingerprintsAsync(server, users, fromScratch: false);
            Assert.Equal(await FingerprintsAsync(server, users, fromScratch: true), live);

            // A crash that lost the checkpoint: the whole log is replayed over the stored states.
            await Task.Delay(300); // write-back of the last changes
            await server.Store.SetMetaAsync("dispatch_position", "0", CancellationToken.None);
            server = await server.RestartAsync();
            await server.DispatchedAsync();
            Assert.Equal(live, await FingerprintsAsync(server, users, fromScratch: false));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task<Dictionary<string, string>> FingerprintsAsync(TestServer server, IEnumerable<string> users, bool fromScratch)
    {
        var registry = server.Services.GetRequiredService<DefinitionsRegistry>();
        var grains = server.Services.GetRequiredService<IGrainFactory>();
        var now = server.Time.GetUtcNow();
        Dictionary<string, string> prints = [];
        foreach (var user in users)
        {
            CustomerState state;
            if (fromScratch)
            {
                state = new CustomerState(user);
                foreach (var e in await server.Store.ReadCustomerLogAsync(user, long.MaxValue, CancellationToken.None)) CustomerFold.Apply(state, e, registry.Fold);
            }
            else
            {
                state = CustomerStateCodec.Decode((await grains.GetGrain<ICustomerGrain>(user).GetStateAsync()).Value);
            }

            CustomerEvaluator.Evaluate(state, registry.Current, now, []);
            prints[user] = Fingerprint(state);
        }

        return prints;
    }

    // What events determine; when derived facts were first noticed is left out (it depends on when evaluations ran).
    private static string Fingerprint(CustomerState s)
    {
        var st = s.Stats;
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"seen {st.FirstSeen:O}..{st.LastSeen:O} sessions {st.Sessions} views {st.ProductViews} adds {st.CartAdds} cart@ {st.CartChangedAt:O} orders {st.Orders}\n");
        foreach (var (k, v) in s.Orders.OrderBy(p => p.Key, StringComparer.Ordinal)) b.Append(CultureInfo.InvariantCulture, $"order {k} {v}\n");
        foreach (var (k, v) in s.Cart.OrderBy(p => p.Key, StringComparer.Ordinal)) b.Append(CultureInfo.InvariantCulture, $"cart {k} {v}\n");
        foreach (var (k, v) in s.Categories.Entries().ToArray().OrderBy(p => p.Key, StringComparer.Ordinal)) b.Append(CultureInfo.InvariantCulture, $"category {k} {v}\n");
        foreach (var (k, v) in s.Trackers.OrderBy(p => p.Key, StringComparer.Ordinal)) b.Append(CultureInfo.InvariantCulture, $"counter {k} {string.Join(',', v.Times)}\n");
        foreach (var (k, v) in s.Tags.OrderBy(p => p.Key, StringComparer.Ordinal)) b.Append(CultureInfo.InvariantCulture, $"tag {k}={v.Value}\n");
        b.Append(CultureInfo.InvariantCulture, $"segments {string.Join(',', s.Segments.Select(m => m.Key).Order(StringComparer.Ordinal))} stage {s.Stage?.Name} rfm {s.Rfm}\n");
        b.Append(CultureInfo.InvariantCulture, $"linked {string.Join(',', s.LinkedIds.Order(StringComparer.Ordinal))}");
        return b.ToString();
    }
}
