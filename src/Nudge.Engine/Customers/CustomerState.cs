using Nudge.Engine.Journeys;
using Nudge.Engine.Rfm;

namespace Nudge.Engine.Customers;

/// <summary>
/// Everything Nudge derives about one customer from their events: stats, cart, orders, affinities,
/// traits, and what the definitions made of them (tags, lifecycle stage, RFM, segment memberships).
/// Built by <see cref="CustomerFold"/>; the event log can always rebuild it.
/// </summary>
public sealed class CustomerState
{
    /// <summary>Creates the empty state of a customer.</summary>
    public CustomerState(string customerId) => CustomerId = customerId;

    /// <summary>The customer's user id.</summary>
    public string CustomerId { get; }

    /// <summary>The last event-log position folded in. An event at or below it is already applied and is skipped.</summary>
    public long Position { get; set; }

    // Collections many customers never fill are created on first write: an empty dictionary costs
    // about 80 bytes, and every active customer is resident.
    private HashSet<string>? _linkedIds, _favourites;
    private Dictionary<string, CartLine>? _cart;
    private Dictionary<string, OrderRecord>? _orders;
    private Dictionary<string, int>? _engagement;

    /// <summary>Anonymous ids and previous user ids whose events are folded into this customer.</summary>
    public IReadOnlySet<string> LinkedIds => _linkedIds ?? Empty.Set;

    /// <summary><see cref="LinkedIds"/> for changes.</summary>
    public HashSet<string> LinkedIdsForUpdate => _linkedIds ??= new(StringComparer.Ordinal);

    /// <summary>Counters and timestamps maintained event by event.</summary>
    public CustomerStats Stats { get; } = new();

    /// <summary>Profile traits (raw JSON), the latest by event timestamp.</summary>
    public SmallDictionary<TraitValue> Traits { get; } = new();

    /// <summary>What is in the cart now, by product id.</summary>
    public IReadOnlyDictionary<string, CartLine> Cart => _cart ?? Empty<CartLine>.Dictionary;

    /// <summary><see cref="Cart"/> for changes.</summary>
    public Dictionary<string, CartLine> CartForUpdate => _cart ??= new(StringComparer.Ordinal);

    /// <summary>The cart, or null when it never had anything (hot paths, without boxing an enumerator).</summary>
    internal Dictionary<string, CartLine>? CartOrNull => _cart;

    /// <summary>Orders by order id.</summary>
    public IReadOnlyDictionary<string, OrderRecord> Orders => _orders ?? Empty<OrderRecord>.Dictionary;

    /// <summary><see cref="Orders"/> for changes.</summary>
    public Dictionary<string, OrderRecord> OrdersForUpdate => _orders ??= new(StringComparer.Ordinal);

    /// <summary>The orders, or null when there never were any.</summary>
    internal Dictionary<string, OrderRecord>? OrdersOrNull => _orders;

    /// <summary>Interest per category: views, cart adds, favourites and purchases, weighted.</summary>
    public Affinity Categories { get; } = new();

    /// <summary>Interest per brand, weighted as <see cref="Categories"/>.</summary>
    public Affinity Brands { get; } = new();

    /// <summary>Product ids on the customer's wishlist.</summary>
    public IReadOnlySet<string> Favourites => _favourites ?? Empty.Set;

    /// <summary><see cref="Favourites"/> for changes.</summary>
    public HashSet<string> FavouritesForUpdate => _favourites ??= new(StringComparer.Ordinal);

    /// <summary>Engagement score per channel (opens count 1, clicks 3): the basis of the preferred channel.</summary>
    public IReadOnlyDictionary<string, int> Engagement => _engagement ?? Empty<int>.Dictionary;

    /// <summary><see cref="Engagement"/> for changes.</summary>
    public Dictionary<string, int> EngagementForUpdate => _engagement ??= new(StringComparer.Ordinal);

    private static class Empty
    {
        public static readonly IReadOnlySet<string> Set = new HashSet<string>();
    }

    private static class Empty<T>
    {
        public static readonly IReadOnlyDictionary<string, T> Dictionary = new Dictionary<string, T>();
    }

    /// <summary>Recent timestamps of the events that segment conditions count, by tracker key.</summary>
    public SmallDictionary<RecentTimes> Trackers { get; } = new();

    /// <summary>Tags the customer carries now, by tag name.</summary>
    public SmallDictionary<TagValue> Tags { get; } = new();

    /// <summary>Segments the customer is in now, with the time they entered.</summary>
    public SmallDictionary<DateTimeOffset> Segments { get; } = new();

    /// <summary>The lifecycle stage now, and since when.</summary>
    public (string Name, DateTimeOffset Since)? Stage { get; set; }

    /// <summary>RFM bands, scores and named segment, as last evaluated.</summary>
    public RfmResult? Rfm { get; set; }

    /// <summary>The earliest future time at which time alone changes a tag, stage, RFM score or segment.</summary>
    public DateTimeOffset? NextCheckAt { get; set; }

    /// <summary>The set of event counters <see cref="Trackers"/> was built for (<c>DefinitionSet.TrackersSignature</c>).</summary>
    public long TrackersSignature { get; set; }

    /// <summary>The definitions version the derived parts were last evaluated with.</summary>
    public long DefinitionsVersion { get; set; }

    private List<JourneyInstance>? _journeys;
    private SmallDictionary<JourneyEntry>? _journeyEntries;

    /// <summary>Journey instances the customer is in now.</summary>
    public IReadOnlyList<JourneyInstance> Journeys => _journeys ?? (IReadOnlyList<JourneyInstance>)[];

    /// <summary><see cref="Journeys"/> for changes.</summary>
    public List<JourneyInstance> JourneysForUpdate => _journeys ??= [];

    /// <summary>The customer's past with each journey they ever entered, by journey id.</summary>
    public SmallDictionary<JourneyEntry> JourneyEntries => _journeyEntries ??= new();

    /// <summary>Journey instances ever started for this customer: the next one gets this plus one.</summary>
    public long InstancesStarted { get; set; }

    // Not part of the encoded state: the runtime takes these with each write-back.
    // A call touches a few products: a list searched in order costs less than a dictionary per call.
    private List<ProductTouch>? _touches;

    /// <summary>Notes a view, cart add or wishlist add of a product, to be taken by <see cref="TakeTouches"/>.</summary>
    public void Touch(ProductTouch touch)
    {
        _touches ??= [];
        for (var i = 0; i < _touches.Count; i++)
        {
            if (!string.Equals(_touches[i].ProductId, touch.ProductId, StringComparison.Ordinal)) continue;
            _touches[i] = _touches[i].With(touch);
            return;
        }

        _touches.Add(touch);
    }

    /// <summary>The products touched since the last call, one entry per product; null when none were.</summary>
    public IReadOnlyList<ProductTouch>? TakeTouches()
    {
        var touches = _touches;
        _touches = null;
        return touches is { Count: > 0 } ? touches : null;
    }
}

/// <summary>Counters and timestamps maintained incrementally.</summary>
public sealed class CustomerStats
{
    /// <summary>Earliest event timestamp.</summary>
    public DateTimeOffset? FirstSeen { get; set; }

    /// <summary>Latest event timestamp.</summary>
    public DateTimeOffset? LastSeen { get; set; }

    /// <summary>Visits: a gap of 30 minutes without activity starts a new one.</summary>
    public int Sessions { get; set; }

    /// <summary>Product Viewed events.</summary>
    public int ProductViews { get; set; }

    /// <summary>Product Added events.</summary>
    public int CartAdds { get; set; }

    /// <summary>When the cart last changed.</summary>
    public DateTimeOffset? CartChangedAt { get; set; }

    /// <summary>Summary of <see cref="CustomerState.Orders"/>, recomputed whenever an order changes.</summary>
    public OrderSummary Orders { get; set; } = OrderSummary.None;
}

/// <summary>A product in the cart.</summary>
/// <param name="Quantity">Units.</param>
/// <param name="Price">Unit price when known.</param>
/// <param name="Name">Product name when sent.</param>
/// <param name="Category">Category when sent.</param>
public readonly record struct CartLine(decimal Quantity, decimal? Price, string? Name, string? Category);

/// <summary>One order as the customer's stats see it.</summary>
/// <param name="At">Order time.</param>
/// <param name="Amount">What was paid, in the shop currency (0 when in another currency).</param>
/// <param name="Refunded">How much of it was refunded.</param>
/// <param name="Cancelled">Cancelled orders count for nothing.</param>
/// <param name="UsedCoupon">A coupon was applied to the order or one of its lines.</param>
/// <param name="HasNewProduct">It contained a product listed within 30 days before the order.</param>
public readonly record struct OrderRecord(DateTimeOffset At, decimal Amount, decimal Refunded, bool Cancelled, bool UsedCoupon, bool HasNewProduct)
{
    /// <summary>Counts as an order: neither cancelled nor refunded in full.</summary>
    public bool Counts => !Cancelled && (Amount == 0 || Refunded < Amount);

    /// <summary>What the order earned: nothing if cancelled, else the amount less refunds.</summary>
    public decimal Net => Cancelled ? 0 : Amount - Refunded;
}

/// <summary>Order stats over the orders that count (<see cref="OrderRecord.Counts"/>).</summary>
/// <param name="Count">Orders that count.</param>
/// <param name="Revenue">Net revenue over all orders, after refunds and cancellations.</param>
/// <param name="FirstAt">The first counted order.</param>
/// <param name="LastAt">The latest counted order.</param>
/// <param name="WithCoupon">Counted orders that used a coupon.</param>
/// <param name="WithNewProduct">Counted orders that contained a new product.</param>
public sealed record OrderSummary(int Count, decimal Revenue, DateTimeOffset? FirstAt, DateTimeOffset? LastAt, int WithCoupon, int WithNewProduct)
{
    /// <summary>No orders.</summary>
    public static readonly OrderSummary None = new(0, 0, null, null, 0, 0);

    /// <summary>Average order value, or null without orders.</summary>
    public decimal? AverageOrderValue => Count == 0 ? null : decimal.Round(Revenue / Count, 2);

    /// <summary>Average days between consecutive orders, or null with fewer than two.</summary>
    public double? AverageDaysBetweenOrders => Count < 2 || FirstAt is null || LastAt is null ? null : (LastAt.Value - FirstAt.Value).TotalDays / (Count - 1);

    /// <summary>Share of orders that used a coupon.</summary>
    public double? CouponUseRatio => Count == 0 ? null : (double)WithCoupon / Count;

    /// <summary>Share of orders that contained a new product.</summary>
    public double? NewProductRatio => Count == 0 ? null : (double)WithNewProduct / Count;

    /// <summary>Summarises orders.</summary>
    public static OrderSummary Of(IEnumerable<OrderRecord> orders)
    {
        int count = 0, coupon = 0, fresh = 0;
        decimal revenue = 0;
        DateTimeOffset? first = null, last = null;
        foreach (var o in orders)
        {
            revenue += o.Net;
            if (!o.Counts) continue;
            count++;
            if (o.UsedCoupon) coupon++;
            if (o.HasNewProduct) fresh++;
            if (first is null || o.At < first) first = o.At;
            if (last is null || o.At > last) last = o.At;
        }

        return count == 0 && revenue == 0 ? None : new OrderSummary(count, revenue, first, last, coupon, fresh);
    }
}

/// <summary>A tag a customer carries.</summary>
/// <param name="Value">The tag's value: "true" for yes/no tags, else e.g. an age band or a category.</param>
/// <param name="Since">When it took this value.</param>
/// <param name="Custom">Set by hand (API, import, journey) rather than by a rule: stays until removed.</param>
public readonly record struct TagValue(string Value, DateTimeOffset Since, bool Custom);
