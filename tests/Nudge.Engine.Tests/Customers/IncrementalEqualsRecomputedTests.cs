using System.Globalization;
using System.Text;
using Nudge.Engine.Customers;
using Nudge.Engine.Definitions;

namespace Nudge.Engine.Tests.Customers;

/// <summary>
/// Property: for random event sequences — out-of-order timestamps, repeated orders, refunds,
/// cancellations — folding event by event with snapshots, crashes and replays in between gives the
/// same customer as one fold over the whole log.
/// </summary>
public class IncrementalEqualsRecomputedTests
{
    private static readonly DateTimeOffset T0 = History.T0;
    private static readonly string[] Categories = ["母婴", "美妆", "运动", "数码", "食品"];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void incremental_state_with_crashes_and_replays_equals_a_fold_of_the_whole_log(int seed)
    {
        var random = new Random(seed);
        var history = RandomHistory(random, random.Next(1, 120));
        var definitions = DefaultDefinitions.Load();
        var settings = History.Settings(definitions);
        var now = T0.AddDays(200);

        var recomputed = History.Evaluated(history.Fold(settings), now, definitions);

        var state = new CustomerState("u1");
        var snapshot = CustomerStateCodec.Encode(state);
        var i = 0;
        while (i < history.Events.Count)
        {
            CustomerFold.Apply(state, history.Events[i], settings);
            i++;
            switch (random.Next(10))
            {
                case 0: // written back: the snapshot is what survives a crash
                    CustomerEvaluator.Evaluate(state, definitions, T0.AddDays(random.Next(200)), []);
                    snapshot = CustomerStateCodec.Encode(state);
                    break;
                case 1: // crash: restore the snapshot, replay the log after its position
                    state = CustomerStateCodec.Decode(snapshot);
                    i = (int)state.Position;
                    break;
                case 2: // at-least-once delivery: some already-applied events arrive again
                    foreach (var e in history.Events.Take(i).Skip(random.Next(i))) Assert.False(CustomerFold.Apply(state, e, settings));
                    break;
            }
        }

        CustomerEvaluator.Evaluate(state, definitions, now, []);
        Assert.Equal(Fingerprint(recomputed), Fingerprint(state));
    }

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (var seed = 1; seed <= 60; seed++) data.Add(seed);
        return data;
    }

    private static History RandomHistory(Random random, int count)
    {
        var h = new History();
        List<string> orders = [];
        for (var n = 0; n < count; n++)
        {
            // Timestamps wander back and forth: late deliveries and clock skew.
            var at = T0.AddDays(random.Next(0, 180)).AddMinutes(random.Next(0, 1440));
            var product = $"p{random.Next(8)}";
            var category = Categories[random.Next(Categories.Length)];
            var price = random.Next(1, 400).ToString(CultureInfo.InvariantCulture);
            switch (random.Next(11))
            {
                case 0 or 1: h.Track("Product Viewed", $$"""{"product_id":"{{product}}","category":"{{category}}","brand":"b{{random.Next(3)}}"}""", at); break;
                case 2: h.Track("Product Added", $$"""{"product_id":"{{product}}","price":{{price}},"quantity":{{random.Next(1, 3)}},"category":"{{category}}"}""", at); break;
                case 3: h.Track("Product Removed", $$"""{"product_id":"{{product}}","quantity":1}""", at); break;
                case 4:
                    var id = orders.Count > 0 && random.Next(4) == 0 ? orders[random.Next(orders.Count)] : $"o{n}";
                    orders.Add(id);
                    h.Order(id, decimal.Parse(price, CultureInfo.InvariantCulture), at, random.Next(3) == 0 ? ""","coupon":"C1" """ : "");
                    break;
                case 5 when orders.Count > 0:
                    var refund = random.Next(2) == 0 ? "" : $$""","total":{{random.Next(1, 200)}}""";
                    h.Track("Order Refunded", $$"""{"order_id":"{{orders[random.Next(orders.Count)]}}"{{refund}}}""", at);
                    break;
                case 6 when orders.Count > 0: h.Track("Order Cancelled", $$"""{"order_id":"{{orders[random.Next(orders.Count)]}}"}""", at); break;
                case 7: h.Identify($$"""{"city":"c{{random.Next(4)}}","birthday":"199{{random.Next(10)}}-0{{random.Next(1, 10)}}-1{{random.Next(10)}}"}""", at); break;
                case 8: h.Track(random.Next(2) == 0 ? "Product Added to Wishlist" : "Product Removed from Wishlist", $$"""{"product_id":"{{product}}"}""", at); break;
                case 9: h.Track(random.Next(2) == 0 ? "Message Opened" : "Message Clicked", $$"""{"channel":"{{(random.Next(2) == 0 ? "email" : "sms")}}"}""", at); break;
                default: h.Track("Cart Viewed", $$"""{"products":[{"product_id":"{{product}}","price":{{price}}}]}""", at); break;
            }
        }

        return h;
    }

    // Everything derived from events, leaving out when derived facts were first noticed (that depends
    // on when evaluations ran, which differs between the two runs by design).
    private static string Fingerprint(CustomerState s)
    {
        var b = new StringBuilder();
        var st = s.Stats;
        b.AppendLine(CultureInfo.InvariantCulture, $"pos {s.Position} seen {st.FirstSeen:O} {st.LastSeen:O} sessions {st.Sessions} views {st.ProductViews} adds {st.CartAdds} cart@ {st.CartChangedAt:O}");
        b.AppendLine(CultureInfo.InvariantCulture, $"orders {st.Orders}");
        foreach (var (k, v) in s.Orders.OrderBy(p => p.Key, StringComparer.Ordinal)) b.AppendLine(CultureInfo.InvariantCulture, $"order {k} {v}");
        foreach (var (k, v) in s.Cart.OrderBy(p => p.Key, StringComparer.Ordinal)) b.AppendLine(CultureInfo.InvariantCulture, $"cart {k} {v}");
        foreach (var (k, v) in s.Traits.OrderBy(p => p.Key, StringComparer.Ordinal)) b.AppendLine(CultureInfo.InvariantCulture, $"trait {k} {v}");
        foreach (var (k, v) in s.Categories.Entries().OrderBy(p => p.Key, StringComparer.Ordinal)) b.AppendLine(CultureInfo.InvariantCulture, $"cat {k} {v}");
        foreach (var (k, v) in s.Brands.Entries().OrderBy(p => p.Key, StringComparer.Ordinal)) b.AppendLine(CultureInfo.InvariantCulture, $"brand {k} {v}");
        foreach (var (k, v) in s.Engagement.OrderBy(p => p.Key, StringComparer.Ordinal)) b.AppendLine(CultureInfo.InvariantCulture, $"engaged {k} {v}");
        foreach (var (k, v) in s.Trackers.OrderBy(p => p.Key, StringComparer.Ordinal)) b.AppendLine(CultureInfo.InvariantCulture, $"tracker {k} {string.Join(',', v.Times.Select(t => t.ToUnixTimeMilliseconds()))}");
        foreach (var (k, v) in s.Tags.OrderBy(p => p.Key, StringComparer.Ordinal)) b.AppendLine(CultureInfo.InvariantCulture, $"tag {k}={v.Value}");
        b.AppendLine(CultureInfo.InvariantCulture, $"favourites {string.Join(',', s.Favourites.Order(StringComparer.Ordinal))}");
        b.AppendLine(CultureInfo.InvariantCulture, $"segments {string.Join(',', s.Segments.Keys.Order(StringComparer.Ordinal))} stage {s.Stage?.Name} rfm {s.Rfm} next {s.NextCheckAt:O}");
        return b.ToString();
    }
}
