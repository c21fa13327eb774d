using System.Text.Json.Nodes;

namespace Nudge.Cli.Demo;

/// <summary>A coupon a customer holds, and what it takes off this order.</summary>
internal sealed record HeldCoupon(string Code, decimal Discount);

/// <summary>
/// How simulated customers shop and how they answer messages. Propensities depend on the persona,
/// on whether their purchase cycle has come round, on the channel, and on coupons in hand.
/// </summary>
internal sealed class Behaviour(DemoShop shop, Agenda agenda)
{
    /// <summary>Finds the best coupon a customer holds for an order of a total (the shop's checkout does this).</summary>
    public required Func<Shopper, decimal, DateTimeOffset, Task<HeldCoupon?>> BestCoupon { get; init; }

    public async Task SignUpAsync(SignUp signUp, List<JsonObject> events)
    {
        var (s, at) = (signUp.Shopper, signUp.At);
        events.Add(s.Identify(at));
        events.Add(s.Track("Signed Up", at, new JsonObject { ["method"] = "email" }));
        await VisitAsync(new Visit(at + TimeSpan.FromMinutes(2), s), events);
    }

    /// <summary>A visit: views, maybe a wishlist, maybe the cart, maybe an order; then plans the next one.</summary>
    public async Task VisitAsync(DemoAction visit, List<JsonObject> events)
    {
        var (s, at) = (visit.Shopper, visit.At);
        var r = s.Random;
        var due = s.PurchaseDue(at);
        var fromMessage = visit is MessageVisit;
        List<DemoProduct> viewed = [];
        if (visit is MessageVisit { ProductId: { } linked }) viewed.Add(shop.Find(linked));
        if (due && s.Usual is { } usual) viewed.Add(shop.Find(usual));
        for (int i = 0, n = 1 + (int)(-Math.Log(1 - r.NextDouble()) * 2); i < n; i++)
        {
            var category = r.NextDouble() < 0.75 ? s.Favourites[r.Next(s.Favourites.Length)] : shop.Categories[r.Next(shop.Categories.Count)];
            var products = shop.ByCategory[category];
            viewed.Add(products[(int)(products.Length * Math.Pow(r.NextDouble(), 1.8))]); // popular items get most views
        }

        var t = at;
        foreach (var p in viewed)
        {
            events.Add(s.Track("Product Viewed", t, Properties(p)));
            if (r.NextDouble() < 0.04) events.Add(s.Track("Product Added to Wishlist", t + TimeSpan.FromSeconds(20), Properties(p)));
            t += TimeSpan.FromSeconds(30 + r.Next(150));
        }

        if (s.Cart.Count > 0 && r.NextDouble() < 0.05)
        {
            events.Add(s.Track("Product Removed", t, Properties(shop.Find(s.Cart[0]))));
            s.Cart.RemoveAt(0);
        }

        var addChance = Pick(s.Persona, 0.08, 0.3, 0.2, 0.2, 0.45) + (due ? 0.35 : 0) + (fromMessage ? 0.2 : 0);
        if (r.NextDouble() < addChance)
        {
            var p = viewed[r.Next(viewed.Count)];
            if (p.Product.Stock is not 0 && !s.Cart.Contains(p.Id))
            {
                t += TimeSpan.FromMinutes(1);
                var added = Properties(p);
                added["quantity"] = 1;
                events.Add(s.Track("Product Added", t, added));
                s.Cart.Add(p.Id);
            }
        }

        if (s.Cart.Count > 0)
        {
            var total = s.Cart.Sum(id => shop.Find(id).Price);
            var coupon = await BestCoupon(s, total, t);
            var orderChance = Pick(s.Persona, 0.03, 0.4, 0.3, 0.3, 0.55) + (due ? 0.3 : 0) + (fromMessage ? 0.15 : 0) + (coupon is not null ? (s.CouponLover ? 0.3 : 0.1) : 0);
            if (r.NextDouble() < orderChance) Order(s, t + TimeSpan.FromMinutes(2 + r.Next(8)), total, coupon, events);
        }

        if (visit is Visit) agenda.Plan(new Visit(s.NextVisit(at), s));
    }

    private void Order(Shopper s, DateTimeOffset at, decimal total, HeldCoupon? coupon, List<JsonObject> events)
    {
        var r = s.Random;
        var products = new JsonArray([.. s.Cart.Select(id => (JsonNode)Properties(shop.Find(id)))]);
        events.Add(s.Track("Checkout Started", at - TimeSpan.FromMinutes(1), new JsonObject { ["value"] = total, ["currency"] = "CNY", ["products"] = products.DeepClone() }));
        var orderId = $"{s.Id}-o{s.Orders + 1}";
        var discount = coupon?.Discount ?? 0;
        var order = new JsonObject
        {
            ["order_id"] = orderId,
            ["total"] = total - discount,
            ["revenue"] = total - discount,
            ["discount"] = discount,
            ["currency"] = "CNY",
            ["products"] = products,
        };
        if (coupon is not null) order["coupon"] = coupon.Code;
        events.Add(s.Track("Order Completed", at, order));
        s.Usual = s.Cart.FirstOrDefault(id => shop.Find(id).Consumable) ?? s.Usual;
        s.Ordered(at);
        var shipped = at + TimeSpan.FromHours(12 + r.Next(36));
        agenda.Plan(new Fulfil(shipped, s, orderId, "Order Shipped"));
        agenda.Plan(new Fulfil(shipped + TimeSpan.FromHours(24 + r.Next(96)), s, orderId, "Order Delivered"));
    }

    public static JsonObject Fulfilment(Fulfil f) => f.Shopper.Track(f.Event, f.At, new JsonObject { ["order_id"] = f.OrderId });

    /// <summary>
    /// A message reached the customer: plans whether and when they open it, click it, or unsubscribe.
    /// Email opens show through the pixel; SMS and group-robot posts can only be clicked. The choices
    /// come from <paramref name="r"/>, a stream of this message's own.
    /// </summary>
    public void Receive(Shopper s, string channel, DateTimeOffset at, string? pixel, string? link, string? unsubscribe, Random r)
    {
        var e = s.Engagement * (s.Lapsed(at) ? 0.4 : 1);
        var seen = at + TimeSpan.FromMinutes(5 + (-Math.Log(1 - r.NextDouble()) * 180));
        double click;
        if (channel == "email")
        {
            // An email is clicked or unsubscribed from only once opened.
            if (pixel is null || r.NextDouble() >= Math.Min(0.38 * e, 0.9)) return;
            agenda.Plan(new Open(seen, s, pixel));
            if (unsubscribe is not null && r.NextDouble() < 0.01) agenda.Plan(new Unsubscribe(seen + TimeSpan.FromMinutes(1), s, unsubscribe));
            click = 0.22 * e;
        }
        else
        {
            click = channel == "sms" ? 0.09 * e : 0.05 * e;
        }

        if (link is not null && r.NextDouble() < Math.Min(click, 0.9)) agenda.Plan(new Click(seen + TimeSpan.FromMinutes(1 + r.Next(10)), s, link));
    }

    private static JsonObject Properties(DemoProduct p) => new()
    {
        ["product_id"] = p.Id,
        ["name"] = p.Product.Name,
        ["category"] = p.Category,
        ["brand"] = p.Product.Brand,
        ["price"] = p.Price,
        ["currency"] = "CNY",
        ["url"] = p.Product.Url,
    };

    private static double Pick(Persona persona, double browser, double regular, double occasional, double lapsing, double vip) => persona switch
    {
        Persona.Browser => browser,
        Persona.Regular => regular,
        Persona.Occasional => occasional,
        Persona.Lapsing => lapsing,
        _ => vip,
    };
}
