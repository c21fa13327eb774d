using Nudge.Engine.Customers;
using Nudge.Engine.Definitions;

namespace Nudge.Engine.Tests.Customers;

public class CustomerFoldTests
{
    private static readonly DateTimeOffset T0 = History.T0;

    [Fact]
    public void revenue_is_net_of_refunds_and_cancellations_and_a_repeated_order_counts_once()
    {
        var s = new History()
            .Order("A", 100, T0)
            .Order("A", 100, T0.AddMinutes(1)) // the same order sent again
            .Order("B", 300, T0.AddDays(10))
            .Order("C", 50, T0.AddDays(20))
            .Track("Order Refunded", """{"order_id":"B","total":120}""", T0.AddDays(12))
            .Track("Order Cancelled", """{"order_id":"C"}""", T0.AddDays(21))
            .Fold();

        var orders = s.Stats.Orders;
        Assert.Equal(2, orders.Count);
        Assert.Equal(280m, orders.Revenue);
        Assert.Equal(140m, orders.AverageOrderValue);
        Assert.Equal(T0.AddDays(10), orders.LastAt);
        Assert.Equal(10, orders.AverageDaysBetweenOrders);
    }

    [Fact]
    public void products_viewed_carted_and_favourited_are_noted_once_each_until_taken()
    {
        var s = new History()
            .Track("Product Viewed", """{"product_id":"p1"}""", T0)
            .Track("Product Viewed", """{"product_id":"p1"}""", T0.AddHours(2))
            .Track("Product Viewed", """{"product_id":"p1"}""", T0.AddHours(1)) // late, older than the latest view
            .Track("Product Added", """{"product_id":"p1","quantity":1}""", T0.AddHours(3))
            .Track("Product Added to Wishlist", """{"product_id":"p2"}""", T0.AddHours(4))
            .Track("Product Viewed", """{"name":"no id"}""", T0.AddHours(5))
            .Fold();

        Assert.Equal([new ProductTouch("p1", T0.AddHours(2), true, false), new ProductTouch("p2", null, false, true)],
            s.TakeTouches()!.OrderBy(t => t.ProductId, StringComparer.Ordinal));
        Assert.Null(s.TakeTouches());
    }

    [Fact]
    public void a_full_refund_without_an_amount_takes_the_order_out_of_the_count()
    {
        var s = new History().Order("A", 100, T0).Order("B", 200, T0.AddDays(1))
            .Track("Order Refunded", """{"order_id":"A"}""", T0.AddDays(2)).Fold();
        Assert.Equal((1, 200m), (s.Stats.Orders.Count, s.Stats.Orders.Revenue));
    }

    [Fact]
    public void the_cart_follows_adds_and_removes_and_empties_on_order()
    {
        var h = new History()
            .Track("Product Added", """{"product_id":"p1","price":20,"quantity":2,"category":"母婴"}""", T0)
            .Track("Product Added", """{"product_id":"p2","price":5,"category":"食品"}""", T0.AddMinutes(1))
            .Track("Product Removed", """{"product_id":"p1","quantity":1}""", T0.AddMinutes(2));
        var s = h.Fold();
        Assert.Equal(2, s.Cart.Count);
        Assert.Equal(1m, s.Cart["p1"].Quantity);
        Assert.Equal(T0.AddMinutes(2), s.Stats.CartChangedAt);
        Assert.Equal(2, s.Stats.CartAdds);
        Assert.Equal("母婴", s.Categories.Top);

        s = h.Order("o1", 25, T0.AddMinutes(5)).Fold();
        Assert.Empty(s.Cart);
    }

    [Fact]
    public void orders_in_another_currency_count_as_orders_but_add_no_revenue()
    {
        var s = new History().Track("Order Completed", """{"order_id":"A","total":99,"currency":"USD"}""", T0).Fold();
        Assert.Equal((1, 0m), (s.Stats.Orders.Count, s.Stats.Orders.Revenue));
    }

    [Fact]
    public void an_event_at_or_below_the_applied_position_changes_nothing()
    {
        var h = new History().Order("A", 100, T0).Track("Product Viewed", """{"product_id":"p1"}""", T0);
        var s = h.Fold();
        var before = CustomerStateCodec.Encode(s);
        Assert.False(CustomerFold.Apply(s, h.Events[0], History.Settings(DefaultDefinitions.Load())));
        Assert.Equal(before, CustomerStateCodec.Encode(s));
    }

    [Fact]
    public void traits_merge_last_write_wins_by_event_timestamp()
    {
        var s = new History().Identify("""{"city":"杭州"}""", T0.AddDays(2)).Identify("""{"city":"上海","gender":"female"}""", T0.AddDays(1)).Fold();
        Assert.Equal("\"杭州\"", s.Traits["city"].JsonValue);
        Assert.Equal("\"female\"", s.Traits["gender"].JsonValue);
    }

    [Fact]
    public void coupon_and_new_product_ratios_count_orders()
    {
        var listed = new Dictionary<string, DateTimeOffset> { ["new"] = T0.AddDays(-5), ["old"] = T0.AddDays(-400) };
        var settings = new FoldSettings("CNY", id => listed.TryGetValue(id, out var at) ? at : null, DefaultDefinitions.Load().TrackersByEvent);
        var s = new History()
            .Order("A", 100, T0, ""","coupon":"SAVE10","products":[{"product_id":"new","price":100}]""")
            .Order("B", 100, T0.AddDays(1), ""","products":[{"product_id":"old","price":100}]""")
            .Fold(settings);
        Assert.Equal(0.5, s.Stats.Orders.CouponUseRatio);
        Assert.Equal(0.5, s.Stats.Orders.NewProductRatio);
    }

    [Fact]
    public void tag_events_set_and_remove_custom_tags_but_never_a_rules_tag()
    {
        var settings = new FoldSettings("CNY", _ => null, DefaultDefinitions.Load().TrackersByEvent, DefaultDefinitions.Load().TagNames);
        var h = new History()
            .Track("Tag Added", """{"tag":"vip","value":"gold"}""", T0)
            .Track("Tag Added", """{"tag":"wholesale"}""", T0.AddMinutes(1))
            .Track("Tag Added", """{"tag":"repeat_buyer"}""", T0.AddMinutes(2));
        var s = h.Fold(settings);
        Assert.Equal(("gold", true), (s.Tags["vip"].Value, s.Tags["vip"].Custom));
        Assert.Equal("true", s.Tags["wholesale"].Value);
        Assert.False(s.Tags.ContainsKey("repeat_buyer"));

        s = h.Track("Tag Removed", """{"tag":"vip"}""", T0.AddMinutes(3)).Fold(settings);
        Assert.False(s.Tags.ContainsKey("vip"));
    }
}
