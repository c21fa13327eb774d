using Nudge.Engine.Customers;
using Nudge.Engine.Definitions;
using Nudge.Engine.Events;
using Nudge.Engine.Journeys;
using Nudge.Engine.Messaging;
using Nudge.Runtime.Journeys;

namespace Nudge.Server.Tests;

/// <summary>
/// The seed journey library (library/ in the repository) on virtual time: each journey lived through
/// by simulated customers, checking exactly which messages go out, when, and what else the steps do.
/// </summary>
public sealed class LibraryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);
    private static readonly Lazy<JourneyPack> Pack = new(() => JourneyPack.ReadAsync(LibraryDirectory(),
        new JourneyReferences(new HashSet<string>(), new HashSet<string>(), DefaultDefinitions.Load().SegmentIds, ChannelNames.All.ToHashSet()), CancellationToken.None).GetAwaiter().GetResult());

    private static string LibraryDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Nudge.slnx"))) return Path.Combine(dir.FullName, "library");
        throw new DirectoryNotFoundException("library/ not found above the test directory");
    }

    private sealed class Customer
    {
        private readonly CustomerSimulation _sim;
        private long _position;

        public Customer(string journeyId, string id = "c1")
        {
            var journey = Pack.Value.Journeys.Single(j => j.Result.Journey!.Id == journeyId).Result.Journey! with { Enabled = true };
            var definitions = DefaultDefinitions.Load();
            _sim = new CustomerSimulation(id, definitions, new FoldSettings("CNY", _ => null, definitions.TrackersByEvent, definitions.TagNames),
                new JourneyRunner(new JourneySet([journey]), TimeZoneInfo.Utc));
            Id = id;
        }

        public string Id { get; }

        public CustomerState State => _sim.State;

        public Customer Track(string name, DateTimeOffset at, string properties = "{}")
        {
            var json = $$"""{"type":"track","event":"{{name}}","userId":"{{Id}}","properties":{{properties}}}""";
            _sim.Apply(new StoredEvent(++_position, $"m{_position}", EventType.Track, name, Id, null, at, at, json));
            return this;
        }

        public Customer Identify(string traits, DateTimeOffset at)
        {
            var json = $$"""{"type":"identify","userId":"{{Id}}","traits":{{traits}}}""";
            _sim.Apply(new StoredEvent(++_position, $"m{_position}", EventType.Identify, null, Id, null, at, at, json));
            return this;
        }

        public Customer Order(string orderId, decimal total, DateTimeOffset at, string extra = "") =>
            Track("Order Completed", at, $$"""{"order_id":"{{orderId}}","total":{{total}},"currency":"CNY"{{extra}}}""");

        public Customer Until(DateTimeOffset at)
        {
            _sim.RunUntil(at);
            return this;
        }

        public void Schedule(string journeyId, DateTimeOffset occurrence) => _sim.Schedule(journeyId, occurrence);

        public Customer Offer(string change, decimal? price, decimal? previous, DateTimeOffset at)
        {
            _sim.Offer(new CatalogOffer(change, "p1", "奶瓶", price, previous, 10, "https://shop.example/p1", null, at));
            return this;
        }

        /// <summary>Messages as (time, step, template, coupon campaign).</summary>
        public List<(DateTimeOffset At, string Step, string Template, string? Coupon)> Sent => [.. _sim.Effects
            .Where(e => e.Effect is SendEffect)
            .Select(e => (e.At, e.Effect.Key.Split(':')[^1], ((SendEffect)e.Effect).Intent.TemplateId, ((SendEffect)e.Effect).Intent.CouponCampaign))];

        public List<JourneyEffect> Other => [.. _sim.Effects.Select(e => e.Effect).Where(e => e is not SendEffect)];

        public List<string> Ended => [.. _sim.Activity.Where(a => a.Kind == ActivityKinds.Ended).Select(a => a.Reason!)];
    }

    [Fact]
    public void the_library_is_valid_and_every_journey_has_a_scenario_here()
    {
        Assert.Empty(Pack.Value.Problems);
        var tested = typeof(LibraryTests).GetMethods().Where(m => m.IsDefined(typeof(FactAttribute), false)).Select(m => m.Name).ToList();
        foreach (var (_, result) in Pack.Value.Journeys)
            Assert.Contains(tested, t => t.StartsWith(result.Journey!.Id.Replace('-', '_'), StringComparison.Ordinal));
    }

    [Fact]
    public void welcome_sends_welcome_and_coupon_at_once_intro_after_3_days_and_second_order_coupon_7_days_after_the_first_order()
    {
        var c = new Customer("welcome").Track("Signed Up", T0).Until(T0.AddDays(4)).Order("o1", 99, T0.AddDays(5)).Until(T0.AddDays(30));
        Assert.Equal([(T0, "welcome", "welcome", "new-customer"), (T0.AddDays(3), "intro", "product-intro", null), (T0.AddDays(12), "second-order", "second-order", "second-order")], c.Sent);
        Assert.Equal(["completed"], c.Ended);

        var never = new Customer("welcome", "c2").Track("Signed Up", T0).Until(T0.AddDays(40));
        Assert.Equal(["welcome", "intro"], never.Sent.Select(s => s.Step));
        Assert.Equal(["no first order in 30 days"], never.Ended);
    }

    [Fact]
    public void abandoned_cart_reminds_after_1_hour_gives_a_coupon_at_24_hours_and_ends_on_an_order()
    {
        var c = new Customer("abandoned-cart").Track("Product Added", T0, """{"product_id":"p1","price":120,"name":"奶瓶"}""").Until(T0.AddDays(5));
        Assert.Equal([(T0.AddHours(1), "reminder", "cart-reminder", null), (T0.AddHours(24), "coupon", "cart-coupon", "cart-24h")], c.Sent);

        var bought = new Customer("abandoned-cart", "c2").Track("Product Added", T0, """{"product_id":"p1","price":120}""").Until(T0.AddHours(2))
            .Order("o1", 120, T0.AddHours(3)).Until(T0.AddDays(3));
        Assert.Equal(["reminder"], bought.Sent.Select(s => s.Step));
        Assert.Equal(["exit:Order Completed"], bought.Ended);

        var emptied = new Customer("abandoned-cart", "c3").Track("Product Added", T0, """{"product_id":"p1","price":120}""")
            .Track("Product Removed", T0.AddMinutes(30), """{"product_id":"p1"}""").Until(T0.AddDays(3));
        Assert.Empty(emptied.Sent);
        Assert.Equal(["cart emptied"], emptied.Ended);
    }

    [Fact]
    public void browse_abandonment_nudges_4_hours_after_a_view_unless_the_product_went_into_the_cart()
    {
        var c = new Customer("browse-abandonment").Track("Product Viewed", T0, """{"product_id":"p1","name":"跑鞋"}""").Until(T0.AddDays(1));
        Assert.Equal([(T0.AddHours(4), "nudge", "browse-reminder", null)], c.Sent);
        var added = new Customer("browse-abandonment", "c2").Track("Product Viewed", T0, """{"product_id":"p1"}""")
            .Track("Product Added", T0.AddHours(1), """{"product_id":"p1"}""").Until(T0.AddDays(1));
        Assert.Empty(added.Sent);
    }

    [Fact]
    public void post_purchase_tells_of_shipping_and_asks_for_a_review_3_days_after_delivery()
    {
        var c = new Customer("post-purchase").Order("o1", 300, T0).Track("Order Shipped", T0.AddDays(1), """{"order_id":"o1"}""")
            .Track("Order Delivered", T0.AddDays(3), """{"order_id":"o1"}""").Until(T0.AddDays(10));
        Assert.Equal([(T0.AddDays(1), "shipped-notice", "order-shipped", null), (T0.AddDays(6), "review", "review-request", null)], c.Sent);
    }

    [Fact]
    public void replenishment_reminds_3_days_before_the_expected_order_then_a_staff_task_then_a_limited_coupon()
    {
        // Orders every 30 days. After the second the third is expected on day 60: reminded at 10:00 on day 57,
        // and the order on day 60 ends that instance. The next is expected on day 90: reminded on day 87,
        // no order by the day after it -> staff task, and a week later the limited-time coupon.
        var c = new Customer("replenishment").Order("o1", 80, T0).Order("o2", 80, T0.AddDays(30)).Order("o3", 80, T0.AddDays(60)).Until(T0.AddDays(110));
        var reminder = new DateTimeOffset(2026, 5, 28, 10, 0, 0, TimeSpan.Zero);
        Assert.Equal(T0.AddDays(87).Date, reminder.Date);
        Assert.Equal([(reminder.AddDays(-30), "reminder", "replenish-reminder", "replenish"), (reminder, "reminder", "replenish-reminder", "replenish"),
            (reminder.AddDays(11), "last-chance", "replenish-last-chance", "replenish-limited")], c.Sent);
        Assert.Equal("exit:Order Completed", c.Ended[0]);
        var task = Assert.Single(c.Other.OfType<TaskEffect>());
        Assert.Equal("service", task.Queue);

        var reordered = new Customer("replenishment", "c2").Order("o1", 80, T0).Order("o2", 80, T0.AddDays(30)).Order("o3", 80, T0.AddDays(60))
            .Until(reminder.AddHours(5)).Order("o4", 80, reminder.AddDays(1)).Until(T0.AddDays(110));
        Assert.Equal(["reminder", "reminder"], reordered.Sent.Select(s => s.Step));
        Assert.Empty(reordered.Other.OfType<TaskEffect>());
    }

    [Fact]
    public void birthday_sends_gift_and_discount_at_9_in_the_customers_own_time_zone()
    {
        var c = new Customer("birthday").Identify("""{"birthday":"1992-03-10","timezone":"Asia/Shanghai"}""", T0).Until(T0.AddDays(30));
        Assert.Equal([(new DateTimeOffset(2026, 3, 10, 1, 0, 0, TimeSpan.Zero), "gift", "birthday", "birthday")], c.Sent);
    }

    [Fact]
    public void winback_recalls_after_30_days_without_an_order_then_recommends_then_tags_deep_lapsed()
    {
        var c = new Customer("winback").Order("o1", 150, T0).Until(T0.AddDays(60));
        Assert.Equal([(T0.AddDays(30), "recall", "winback-recall", "winback-200-50"), (T0.AddDays(37), "picks", "winback-picks", null)], c.Sent);
        Assert.Equal("deep-lapsed", Assert.Single(c.Other.OfType<TagEffect>()).Tag);
        Assert.True(c.State.Tags.ContainsKey("deep-lapsed"));
        Assert.Equal(["deep lapsed"], c.Ended);

        var back = new Customer("winback", "c2").Order("o1", 150, T0).Until(T0.AddDays(32)).Order("o2", 220, T0.AddDays(33)).Until(T0.AddDays(60));
        Assert.Equal(["recall"], back.Sent.Select(s => s.Step));
        Assert.Equal(["won back"], back.Ended);
    }

    [Fact]
    public void tier_upgrade_tells_a_customer_who_reaches_the_high_value_stage()
    {
        var c = new Customer("tier-upgrade").Order("o1", 3000, T0).Order("o2", 2500, T0.AddDays(10)).Until(T0.AddDays(20));
        Assert.Equal([(T0.AddDays(10), "notice", "tier-upgrade", null)], c.Sent);
    }

    [Fact]
    public void vip_care_sends_a_dedicated_service_message_and_opens_a_staff_task()
    {
        var c = new Customer("vip-care").Order("o1", 6000, T0).Until(T0.AddDays(1));
        Assert.Equal([(T0, "welcome-vip", "vip-care", null)], c.Sent);
        Assert.Equal("vip", Assert.Single(c.Other.OfType<TaskEffect>()).Queue);
    }

    [Fact]
    public void big_promotion_sends_warm_up_pre_sale_and_peak_each_at_its_time()
    {
        var c = new Customer("big-promotion");
        var start = DateTimeOffset.Parse("2027-11-01T10:00:00+08:00", System.Globalization.CultureInfo.InvariantCulture);
        c.Schedule("big-promotion", start);
        c.Until(start.AddDays(15));
        Assert.Equal([(start, "warm-up"), (DateTimeOffset.Parse("2027-11-08T20:00:00+08:00", System.Globalization.CultureInfo.InvariantCulture), "pre-sale"),
            (DateTimeOffset.Parse("2027-11-11T00:00:00+08:00", System.Globalization.CultureInfo.InvariantCulture), "peak")], c.Sent.Select(s => (s.At, s.Step)));
        // The same occurrence again (a repeated round after a crash) changes nothing.
        c.Schedule("big-promotion", start);
        Assert.Equal(3, c.Sent.Count);
    }

    [Fact]
    public void new_product_launch_reaches_only_customers_who_love_new_arrivals()
    {
        var at = new DateTimeOffset(2027, 3, 1, 2, 0, 0, TimeSpan.Zero);
        var fan = new Customer("new-product-launch");
        fan.State.Tags["new_arrival_lover"] = new TagValue("true", T0, false);
        fan.Schedule("new-product-launch", at);
        Assert.Equal([(at, "launch", "new-arrivals", null)], fan.Sent);
        var other = new Customer("new-product-launch", "c2");
        other.Schedule("new-product-launch", at);
        Assert.Empty(other.Sent);
    }

    [Fact]
    public void clearance_reaches_discount_lovers_with_a_coupon()
    {
        var at = new DateTimeOffset(2027, 2, 20, 2, 0, 0, TimeSpan.Zero);
        var c = new Customer("clearance").Order("o1", 100, T0, ""","coupon":"X1" """).Order("o2", 100, T0.AddDays(3), ""","coupon":"X2" """);
        Assert.True(c.State.Tags.ContainsKey("discount_lover"));
        c.Schedule("clearance", at);
        Assert.Equal([(at, "sale", "clearance", "clearance")], c.Sent);
        var full = new Customer("clearance", "c2").Order("o1", 100, T0);
        full.Schedule("clearance", at);
        Assert.Empty(full.Sent);
    }

    [Fact]
    public void price_drop_alerts_customers_who_favourited_carted_or_recently_viewed_the_item_when_it_drops_5_percent_or_more()
    {
        var fan = new Customer("price-drop").Track("Product Added to Wishlist", T0, """{"product_id":"p1"}""")
            .Offer("price_drop", 98, 100, T0.AddDays(1)).Offer("price_drop", 80, 98, T0.AddDays(2));
        Assert.Equal([(T0.AddDays(2), "alert", "price-drop", null)], fan.Sent);

        var viewer = new Customer("price-drop", "c2").Track("Product Viewed", T0, """{"product_id":"p1"}""").Offer("price_drop", 80, 100, T0.AddDays(10));
        Assert.Single(viewer.Sent);
        var stale = new Customer("price-drop", "c3").Track("Product Viewed", T0, """{"product_id":"p1"}""").Offer("price_drop", 80, 100, T0.AddDays(31));
        Assert.Empty(stale.Sent);
        var other = new Customer("price-drop", "c4").Track("Product Viewed", T0, """{"product_id":"p2"}""").Offer("price_drop", 80, 100, T0.AddDays(1));
        Assert.Empty(other.Sent);
    }

    [Fact]
    public void back_in_stock_alerts_a_customer_whose_cart_item_is_available_again()
    {
        var c = new Customer("back-in-stock").Track("Product Added", T0, """{"product_id":"p1","price":20}""").Offer("back_in_stock", 20, null, T0.AddDays(2));
        Assert.Equal([(T0.AddDays(2), "alert", "back-in-stock", null)], c.Sent);
        var removed = new Customer("back-in-stock", "c2").Track("Product Added", T0, """{"product_id":"p1","price":20}""")
            .Track("Product Removed", T0.AddHours(1), """{"product_id":"p1"}""").Offer("back_in_stock", 20, null, T0.AddDays(2));
        Assert.Empty(removed.Sent);
    }
}
