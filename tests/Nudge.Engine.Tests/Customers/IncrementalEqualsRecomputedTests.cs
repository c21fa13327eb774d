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

    [Theory]
    [MemberData(nameof(Seeds))]
    public void incremental_state_with_crashes_and_replays_equals_a_fold_of_the_whole_log(int seed)
    {
        var random = new Random(seed);
        var history = History.Random(random, random.Next(1, 120));
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
        foreach (var (k, v) in s.Categories.Entries().ToArray().OrderBy(p => p.Key, StringComparer.Ordinal)) b.AppendLine(CultureInfo.InvariantCulture, $"cat {k} {v}");
        foreach (var (k, v) in s.Brands.Entries().ToArray().OrderBy(p => p.Key, StringComparer.Ordinal)) b.AppendLine(CultureInfo.InvariantCulture, $"brand {k} {v}");
        foreach (var (k, v) in s.Engagement.OrderBy(p => p.Key, StringComparer.Ordinal)) b.AppendLine(CultureInfo.InvariantCulture, $"engaged {k} {v}");
        foreach (var (k, v) in s.Trackers.OrderBy(p => p.Key, StringComparer.Ordinal)) b.AppendLine(CultureInfo.InvariantCulture, $"tracker {k} {string.Join(',', v.Times.Select(t => t.ToUnixTimeMilliseconds()))}");
        foreach (var (k, v) in s.Tags.OrderBy(p => p.Key, StringComparer.Ordinal)) b.AppendLine(CultureInfo.InvariantCulture, $"tag {k}={v.Value}");
        b.AppendLine(CultureInfo.InvariantCulture, $"favourites {string.Join(',', s.Favourites.Order(StringComparer.Ordinal))}");
        b.AppendLine(CultureInfo.InvariantCulture, $"segments {string.Join(',', s.Segments.Keys.Order(StringComparer.Ordinal))} stage {s.Stage?.Name} rfm {s.Rfm} next {s.NextCheckAt:O}");
        return b.ToString();
    }
}
