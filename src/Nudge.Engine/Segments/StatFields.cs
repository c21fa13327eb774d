using System.Globalization;
using Nudge.Engine.Customers;

namespace Nudge.Engine.Segments;

/// <summary>How a stat relates to the clock.</summary>
public enum StatClock
{
    /// <summary>Changes only with events.</summary>
    None,
    /// <summary>Days elapsed since a timestamp: grows with time.</summary>
    DaysSince,
    /// <summary>Hours elapsed since a timestamp.</summary>
    HoursSince,
    /// <summary>Counted over orders in the last N days (<c>within_days</c>).</summary>
    Windowed,
    /// <summary>Age in years: changes on the birthday.</summary>
    Age,
}

/// <summary>A stat that conditions can test.</summary>
/// <param name="Name">Its name in definitions.</param>
/// <param name="Clock">How it moves with time.</param>
/// <param name="IsText">A text stat (top category...) rather than a number.</param>
/// <param name="Description">What it means, for errors and docs.</param>
/// <param name="Reads">The parts of the state it is computed from, beyond the stats always decoded.</param>
public sealed record StatField(string Name, StatClock Clock, bool IsText, string Description, StateParts Reads = StateParts.None);

/// <summary>The stats conditions can use, and how to read them from a customer's state.</summary>
public static class StatFields
{
    /// <summary>Every stat by name.</summary>
    public static readonly IReadOnlyDictionary<string, StatField> All = new[]
    {
        new StatField("orders", StatClock.Windowed, false, "orders that count (not cancelled or fully refunded); with within_days, in the last N days", StateParts.Orders),
        new StatField("revenue", StatClock.Windowed, false, "net revenue in the shop currency; with within_days, of orders in the last N days", StateParts.Orders),
        new StatField("aov", StatClock.None, false, "average order value", StateParts.Orders),
        new StatField("avg_days_between_orders", StatClock.None, false, "average days between orders", StateParts.Orders),
        new StatField("coupon_use_ratio", StatClock.None, false, "share of orders with a coupon, 0..1", StateParts.Orders),
        new StatField("new_product_ratio", StatClock.None, false, "share of orders with a product listed in the 30 days before, 0..1", StateParts.Orders),
        new StatField("product_views", StatClock.None, false, "Product Viewed events"),
        new StatField("cart_adds", StatClock.None, false, "Product Added events"),
        new StatField("sessions", StatClock.None, false, "visits"),
        new StatField("cart_value", StatClock.None, false, "value of the cart now", StateParts.Cart),
        new StatField("cart_items", StatClock.None, false, "units in the cart now", StateParts.Cart),
        new StatField("favourites", StatClock.None, false, "products on the wishlist", StateParts.Favourites),
        new StatField("days_since_last_order", StatClock.DaysSince, false, "days since the latest order", StateParts.Orders),
        new StatField("days_since_first_order", StatClock.DaysSince, false, "days since the first order", StateParts.Orders),
        new StatField("days_since_last_seen", StatClock.DaysSince, false, "days since the latest event"),
        new StatField("days_since_first_seen", StatClock.DaysSince, false, "days since the first event"),
        new StatField("days_since_registered", StatClock.DaysSince, false, "days since the created_at trait (or first seen)", StateParts.Traits),
        new StatField("cart_idle_hours", StatClock.HoursSince, false, "hours since a non-empty cart last changed", StateParts.Cart),
        new StatField("age", StatClock.Age, false, "age in years from the birthday (or age) trait", StateParts.Traits),
        new StatField("top_category", StatClock.None, true, "category with the most interest", StateParts.Categories),
        new StatField("top_brand", StatClock.None, true, "brand with the most interest", StateParts.Brands),
        new StatField("preferred_channel", StatClock.None, true, "channel the customer engages with most", StateParts.Engagement),
    }.ToDictionary(f => f.Name, StringComparer.Ordinal);

    /// <summary>A numeric stat now; null when it has no value (e.g. days since last order without orders).</summary>
    public static double? Number(CustomerState s, string name, Evaluation ev, TimeSpan? window)
    {
        var stats = s.Stats;
        var orders = stats.Orders;
        return name switch
        {
            "orders" => window is { } w ? Windowed(s, ev, w, revenue: false) : orders.Count,
            "revenue" => window is { } w ? Windowed(s, ev, w, revenue: true) : (double)orders.Revenue,
            "aov" => (double?)orders.AverageOrderValue,
            "avg_days_between_orders" => orders.AverageDaysBetweenOrders,
            "coupon_use_ratio" => orders.CouponUseRatio,
            "new_product_ratio" => orders.NewProductRatio,
            "product_views" => stats.ProductViews,
            "cart_adds" => stats.CartAdds,
            "sessions" => stats.Sessions,
            "cart_value" => (double)CartValue(s),
            "cart_items" => (double)CartItems(s),
            "favourites" => s.Favourites.Count,
            "age" => Age(s, ev),
            _ => Since(s, name) is { } since ? (ev.Now - since).TotalDays * (name == "cart_idle_hours" ? 24 : 1) : null,
        };
    }

    /// <summary>What the cart is worth now (lines without a price count nothing).</summary>
    public static decimal CartValue(CustomerState s)
    {
        decimal value = 0;
        if (s.CartOrNull is { } cart)
            foreach (var line in cart.Values) value += (line.Price ?? 0) * line.Quantity;
        return value;
    }

    private static decimal CartItems(CustomerState s)
    {
        decimal items = 0;
        if (s.CartOrNull is { } cart)
            foreach (var line in cart.Values) items += line.Quantity;
        return items;
    }

    /// <summary>The timestamp a DaysSince/HoursSince stat counts from.</summary>
    public static DateTimeOffset? Since(CustomerState s, string name) => name switch
    {
        "days_since_last_order" => s.Stats.Orders.LastAt,
        "days_since_first_order" => s.Stats.Orders.FirstAt,
        "days_since_last_seen" => s.Stats.LastSeen,
        "days_since_first_seen" => s.Stats.FirstSeen,
        "days_since_registered" => Registered(s),
        "cart_idle_hours" => s.Cart.Count > 0 ? s.Stats.CartChangedAt : null,
        _ => null,
    };

    /// <summary>A text stat now, or null.</summary>
    public static string? Text(CustomerState s, string name) => name switch
    {
        "top_category" => s.Categories.Top,
        "top_brand" => s.Brands.Top,
        "preferred_channel" => PreferredChannel(s),
        _ => null,
    };

    /// <summary>The channel with the most engagement (ties: ordinal-first), or null before any.</summary>
    public static string? PreferredChannel(CustomerState s)
    {
        string? preferred = null;
        var best = int.MinValue;
        if (s.Engagement.Count == 0) return null;
        foreach (var (channel, score) in s.Engagement)
        {
            if (score > best || (score == best && string.CompareOrdinal(channel, preferred) < 0))
                (preferred, best) = (channel, score);
        }

        return preferred;
    }

    /// <summary>When the customer registered: the <c>created_at</c> trait, else the first event.</summary>
    public static DateTimeOffset? Registered(CustomerState s) =>
        s.Traits.TryGetValue("created_at", out var created) && Traits.Date(created.JsonValue) is { } at ? at : s.Stats.FirstSeen;

    private static double Windowed(CustomerState s, Evaluation ev, TimeSpan window, bool revenue)
    {
        double total = 0;
        var from = ev.Now - window;
        if (s.OrdersOrNull is not { } orders) return 0;
        foreach (var o in orders.Values)
        {
            if (!o.Counts && o.Net == 0) continue;
            // Each order enters the window at its time and leaves it a window later.
            ev.ChangesAt(o.At);
            ev.ChangesAt(o.At + window);
            if (o.At > from && o.At <= ev.Now && o.Counts) total += revenue ? (double)o.Net : 1;
        }

        return total;
    }

    private static double? Age(CustomerState s, Evaluation ev)
    {
        if (s.Traits.TryGetValue("birthday", out var b) && Traits.Date(b.JsonValue) is { } birthday)
        {
            var today = ev.Now.UtcDateTime.Date;
            var age = today.Year - birthday.Year;
            var thisYear = BirthdayIn(birthday, today.Year);
            if (thisYear > today) age--;
            var next = thisYear > today ? thisYear : BirthdayIn(birthday, today.Year + 1);
            ev.ChangesAt(new DateTimeOffset(next, TimeSpan.Zero));
            return age;
        }

        return s.Traits.TryGetValue("age", out var a) && double.TryParse(a.JsonValue, NumberStyles.Float, CultureInfo.InvariantCulture, out var years) ? years : null;
    }

    // 29 February birthdays fall on 28 February in common years.
    private static DateTime BirthdayIn(DateTimeOffset birthday, int year) =>
        new(year, birthday.Month, Math.Min(birthday.Day, DateTime.DaysInMonth(year, birthday.Month)), 0, 0, 0, DateTimeKind.Utc);
}
