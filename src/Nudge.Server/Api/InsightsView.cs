using Nudge.Engine.Customers;
using Nudge.Engine.Rfm;
using Nudge.Engine.Segments;

namespace Nudge.Server.Api;

/// <summary>What Nudge has derived about a customer: stats, cart, interests, tags, stage, RFM and segments.</summary>
public sealed record InsightsView(
    StatsView Stats,
    CartView Cart,
    IReadOnlyList<AffinityView> TopCategories,
    IReadOnlyList<AffinityView> TopBrands,
    IReadOnlyList<string> Favourites,
    IReadOnlyDictionary<string, TagView> Tags,
    StageView? Stage,
    RfmResult? Rfm,
    IReadOnlyDictionary<string, DateTimeOffset> Segments,
    DateTimeOffset? NextCheckAt,
    IReadOnlyList<CustomerChange> RecentChanges)
{
    private const int Top = 5;

    public static InsightsView From(CustomerState s, IReadOnlyList<CustomerChange> changes)
    {
        var st = s.Stats;
        var o = st.Orders;
        var stats = new StatsView(st.FirstSeen, st.LastSeen, st.Sessions, st.ProductViews, st.CartAdds, o.Count, o.Revenue, o.AverageOrderValue,
            o.FirstAt, o.LastAt, o.AverageDaysBetweenOrders is { } d ? Math.Round(d, 2) : null, Ratio(o.CouponUseRatio), Ratio(o.NewProductRatio),
            StatFields.PreferredChannel(s));
        var cart = new CartView(
            [.. s.Cart.Select(l => new CartItemView(l.Key, l.Value.Name, l.Value.Category, l.Value.Quantity, l.Value.Price))],
            StatFields.CartValue(s), s.Cart.Count > 0 ? st.CartChangedAt : null);
        return new InsightsView(stats, cart,
            [.. s.Categories.TopN(Top).Select(p => new AffinityView(p.Key, p.Value))],
            [.. s.Brands.TopN(Top).Select(p => new AffinityView(p.Key, p.Value))],
            [.. s.Favourites.Order(StringComparer.Ordinal)],
            s.Tags.ToDictionary(t => t.Key, t => new TagView(t.Value.Value, t.Value.Since, t.Value.Custom), StringComparer.Ordinal),
            s.Stage is { } stage ? new StageView(stage.Name, stage.Since) : null,
            s.Rfm,
            s.Segments,
            s.NextCheckAt,
            changes);
    }

    private static double? Ratio(double? r) => r is { } v ? Math.Round(v, 4) : null;
}

public sealed record StatsView(
    DateTimeOffset? FirstSeen, DateTimeOffset? LastSeen, int Sessions, int ProductViews, int CartAdds,
    int Orders, decimal Revenue, decimal? AverageOrderValue, DateTimeOffset? FirstOrderAt, DateTimeOffset? LastOrderAt,
    double? AverageDaysBetweenOrders, double? CouponUseRatio, double? NewProductRatio, string? PreferredChannel);

public sealed record CartView(IReadOnlyList<CartItemView> Items, decimal Value, DateTimeOffset? ChangedAt);

public sealed record CartItemView(string ProductId, string? Name, string? Category, decimal Quantity, decimal? Price);

public sealed record AffinityView(string Name, int Score);

public sealed record TagView(string Value, DateTimeOffset Since, bool Custom);

public sealed record StageView(string Name, DateTimeOffset Since);
