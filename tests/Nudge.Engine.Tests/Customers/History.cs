using System.Globalization;
using Nudge.Engine.Customers;
using Nudge.Engine.Definitions;
using Nudge.Engine.Events;

namespace Nudge.Engine.Tests.Customers;

/// <summary>Builds a customer's event log the way the event log stores it.</summary>
internal sealed class History(string userId = "u1")
{
    public static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public List<StoredEvent> Events { get; } = [];

    public History Track(string name, string properties, DateTimeOffset at, string? anonymousId = null)
    {
        var json = $$"""{"type":"track","event":"{{name}}","userId":"{{userId}}","properties":{{properties}}}""";
        Events.Add(new StoredEvent(Events.Count + 1, $"m{Events.Count + 1}", EventType.Track, name, userId, anonymousId, at, at, json));
        return this;
    }

    public History Identify(string traits, DateTimeOffset at)
    {
        var json = $$"""{"type":"identify","userId":"{{userId}}","traits":{{traits}}}""";
        Events.Add(new StoredEvent(Events.Count + 1, $"m{Events.Count + 1}", EventType.Identify, null, userId, null, at, at, json));
        return this;
    }

    public History Order(string orderId, decimal total, DateTimeOffset at, string extra = "") =>
        Track("Order Completed", $$"""{"order_id":"{{orderId}}","total":{{total}},"currency":"CNY"{{extra}}}""", at);

    public CustomerState Fold(FoldSettings? settings = null)
    {
        var state = new CustomerState(userId);
        foreach (var e in Events) CustomerFold.Apply(state, e, settings ?? Settings(DefaultDefinitions.Load()));
        return state;
    }

    public static FoldSettings Settings(DefinitionSet definitions) => new("CNY", _ => null, definitions.TrackersByEvent);

    public static CustomerState Evaluated(CustomerState state, DateTimeOffset now, DefinitionSet? definitions = null)
    {
        CustomerEvaluator.Evaluate(state, definitions ?? DefaultDefinitions.Load(), now, []);
        return state;
    }

    private static readonly string[] Categories = ["母婴", "美妆", "运动", "数码", "食品"];

    /// <summary>A random shopper: views, carts, orders with refunds and cancellations, traits, wishlists, engagement; timestamps out of order.</summary>
    public static History Random(Random random, int count)
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
}
