using Nudge.Engine.Customers;
using Nudge.Engine.Definitions;
using Nudge.Engine.Rfm;
using Nudge.Engine.Tests.Customers;

namespace Nudge.Engine.Tests.Definitions;

/// <summary>The seed 002 RFM bands and the seed 004 lifecycle table, as acceptance cases.</summary>
public class SeedBandsTests
{
    private static readonly DateTimeOffset T0 = History.T0;

    [Theory]
    [InlineData(7, "7d")]
    [InlineData(7.01, "30d")]
    [InlineData(30, "30d")]
    [InlineData(90, "90d")]
    [InlineData(91, "over90d")]
    public void recency_bands_are_7_30_90_days(double days, string band) => Assert.Equal(band, RfmSettings.Default.RecencyBand(days));

    [Theory]
    [InlineData(1, "low")]
    [InlineData(3, "low")]
    [InlineData(4, "medium")]
    [InlineData(10, "medium")]
    [InlineData(11, "high")]
    public void frequency_bands_are_1_to_3_then_to_10_then_more(int orders, string band) => Assert.Equal(band, RfmSettings.Default.FrequencyBand(orders));

    [Theory]
    [InlineData(299.99, "low")]
    [InlineData(300, "medium")]
    [InlineData(1000, "medium")]
    [InlineData(1000.01, "high")]
    public void monetary_bands_are_under_300_to_1000_and_over(decimal revenue, string band) => Assert.Equal(band, RfmSettings.Default.MonetaryBand(revenue));

    [Fact]
    public void rfm_of_a_customer_follows_the_bands_and_the_named_grid()
    {
        var h = new History();
        for (var i = 0; i < 11; i++) h.Order($"o{i}", 300, T0.AddDays(i));
        var s = History.Evaluated(h.Fold(), T0.AddDays(12));
        Assert.Equal(("7d", "high", "high"), (s.Rfm!.RecencyBand, s.Rfm.FrequencyBand, s.Rfm.MonetaryBand));
        Assert.Equal((5, 5, 5, "Champions"), (s.Rfm.R, s.Rfm.F, s.Rfm.M, s.Rfm.Segment));

        // 100 days later the same customer has lapsed.
        s = History.Evaluated(s, T0.AddDays(110));
        Assert.Equal("over90d", s.Rfm!.RecencyBand);
        Assert.Equal("Can't Lose Them", s.Rfm.Segment);
    }

    [Fact]
    public void every_score_combination_has_a_named_segment()
    {
        for (var r = 1; r <= 5; r++)
            for (var f = 1; f <= 5; f++)
                for (var m = 1; m <= 5; m++)
                    Assert.Contains(RfmSegments.Of(r, f, m), RfmSegments.Names);
        Assert.Equal(11, RfmSegments.Names.Count);
    }

    [Fact]
    public void quintiles_split_customers_into_five_equal_groups()
    {
        var customers = Enumerable.Range(1, 100).Select(i => ((double)i, (double)i, (double)i * 10)).ToList();
        var q = RfmQuintiles.Compute(customers, T0);
        Assert.Equal([20, 40, 60, 80], q.Frequency);
        Assert.Equal([1, 1, 2, 2, 3, 3, 4, 4, 5, 5], new[] { 1, 20, 21, 40, 41, 60, 61, 80, 81, 100 }.Select(f => q.FrequencyScore(f)));
        Assert.Equal(5, q.RecencyScore(1));
        Assert.Equal(1, q.RecencyScore(100));
    }

    [Fact]
    public void a_customer_registered_within_7_days_without_an_order_is_new_then_a_prospect()
    {
        var h = new History().Identify("""{"created_at":"2026-01-01T00:00:00Z"}""", T0);
        var s = History.Evaluated(h.Fold(), T0.AddDays(7));
        Assert.Equal("new", s.Stage?.Name);
        Assert.Equal(T0.AddDays(7).AddMilliseconds(1), s.NextCheckAt);
        Assert.Equal("prospect", History.Evaluated(s, s.NextCheckAt!.Value).Stage?.Name);
    }

    [Fact]
    public void two_orders_in_30_days_or_an_average_over_150_make_a_customer_active()
    {
        var twoSmall = new History().Order("a", 50, T0).Order("b", 60, T0.AddDays(20));
        Assert.Equal("active", History.Evaluated(twoSmall.Fold(), T0.AddDays(21)).Stage?.Name);
        var oneBig = new History().Order("a", 151, T0);
        Assert.Equal("active", History.Evaluated(oneBig.Fold(), T0.AddDays(1)).Stage?.Name);
        var oneSmall = new History().Order("a", 150, T0);
        Assert.Equal("customer", History.Evaluated(oneSmall.Fold(), T0.AddDays(1)).Stage?.Name);
    }

    [Fact]
    public void dormancy_is_due_exactly_90_days_after_the_last_order()
    {
        var s = History.Evaluated(new History().Order("a", 500, T0).Fold(), T0.AddDays(1));
        Assert.Equal("active", s.Stage?.Name);
        // The timer chain lands exactly on day 90, whatever boundaries come before it.
        while (s.Stage?.Name != "dormant")
        {
            Assert.True(s.NextCheckAt <= T0.AddDays(90), $"stage {s.Stage?.Name} next check {s.NextCheckAt:O}");
            History.Evaluated(s, s.NextCheckAt!.Value);
        }

        Assert.Equal(T0.AddDays(90), s.Stage.Value.Since);
    }

    [Fact]
    public void spending_over_5000_in_12_months_or_5_repeat_orders_is_high_value()
    {
        var big = new History().Order("a", 3000, T0).Order("b", 2001, T0.AddDays(300));
        Assert.Equal("high_value", History.Evaluated(big.Fold(), T0.AddDays(301)).Stage?.Name);
        // A year after the first order its spend leaves the 12-month window.
        Assert.Equal("active", History.Evaluated(big.Fold(), T0.AddDays(366)).Stage?.Name);

        var repeat = new History();
        for (var i = 0; i < 6; i++) repeat.Order($"o{i}", 10, T0.AddDays(i * 10));
        Assert.Equal("high_value", History.Evaluated(repeat.Fold(), T0.AddDays(51)).Stage?.Name);
    }

    [Fact]
    public void default_tags_cover_the_four_kinds()
    {
        var h = new History()
            .Identify("""{"gender":"female","birthday":"1995-06-01","address":{"city":"杭州"}}""", T0)
            .Track("Product Viewed", """{"product_id":"p1","category":"母婴"}""", T0)
            .Order("a", 800, T0.AddDays(1), ""","coupon":"C"}""".TrimEnd('}'))
            .Order("b", 400, T0.AddDays(2), ""","coupon":"C" """)
            .Track("Product Added", """{"product_id":"p2","price":10}""", T0.AddDays(3));
        var s = History.Evaluated(h.Fold(), T0.AddDays(3).AddHours(30));
        Assert.Equal("杭州", s.Tags["region"].Value);
        Assert.Equal("female", s.Tags["gender"].Value);
        Assert.Equal("25-34", s.Tags["age_band"].Value);
        Assert.Equal("母婴", s.Tags["top_category"].Value);
        Assert.Equal("1d-3d", s.Tags["cart_idle"].Value);
        Assert.True(s.Tags.ContainsKey("high_value"));
        Assert.True(s.Tags.ContainsKey("repeat_buyer"));
        Assert.True(s.Tags.ContainsKey("discount_lover"));
        Assert.False(s.Tags.ContainsKey("new_arrival_lover"));
    }
}
