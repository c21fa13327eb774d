using System.Text.Json;
using Nudge.Engine.Commerce;
using Nudge.Engine.Events;

namespace Nudge.Engine.Customers;

/// <summary>
/// Folds events into a <see cref="CustomerState"/>, one at a time, in log order. Applying the events
/// of a customer one by one (with crashes, replays and snapshots in between) gives the same state as
/// folding the whole log at once: every rule here depends only on the events and their order.
/// </summary>
public static class CustomerFold
{
    // Weights of an interaction towards category and brand affinity.
    private const int ViewWeight = 1, CartWeight = 3, FavouriteWeight = 3, PurchaseWeight = 5;

    /// <summary>Favourites kept per customer.</summary>
    public const int MaxFavourites = 200;

    /// <summary>
    /// Applies one event. Returns false, changing nothing, when its position is not after the state's
    /// position: applied exactly once, because the position is checked before the apply.
    /// </summary>
    public static bool Apply(CustomerState state, StoredEvent e, FoldSettings settings)
    {
        if (e.Position <= state.Position) return false;
        state.Position = e.Position;
        Link(state, e);
        Seen(state.Stats, e);

        if (e.Type is EventType.Identify or EventType.Track or EventType.Alias)
        {
            using var doc = JsonDocument.Parse(e.Json);
            var root = doc.RootElement;
            if (e.Type == EventType.Alias && PreviousId(root) is { } previous && previous != state.CustomerId) state.LinkedIdsForUpdate.Add(previous);
            if (e.Type == EventType.Identify && root.TryGetProperty("traits", out var traits) && traits.ValueKind == JsonValueKind.Object)
                ApplyTraits(state, traits, e.Timestamp);
            if (e.Type == EventType.Track && e.Name is { } name)
            {
                var properties = root.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
                ApplyTrack(state, name, properties, e, settings);
            }
        }

        return true;
    }

    private static void Link(CustomerState state, StoredEvent e)
    {
        if (e.AnonymousId is { } anonymous) state.LinkedIdsForUpdate.Add(anonymous);
        if (e.UserId is { } user && user != state.CustomerId) state.LinkedIdsForUpdate.Add(user);
    }

    /// <summary>The id an alias message joins to its user id.</summary>
    public static string? PreviousId(JsonElement message) =>
        message.TryGetProperty("previousId", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    private static void Seen(CustomerStats stats, StoredEvent e)
    {
        var t = e.Timestamp;
        if (stats.FirstSeen is null || t < stats.FirstSeen) stats.FirstSeen = t;
        var last = stats.LastSeen;
        if (last is null || t > last) stats.LastSeen = t;
        if (e.Type is EventType.Identify or EventType.Alias or EventType.Group) return;
        // A session is a run of activity without a 30-minute gap; an event far before the latest
        // activity (late delivery) is a session of its own.
        if (last is null || t - last.Value > FoldSettings.SessionGap || last.Value - t > FoldSettings.SessionGap) stats.Sessions++;
    }

    private static void ApplyTraits(CustomerState state, JsonElement traits, DateTimeOffset at)
    {
        foreach (var trait in traits.EnumerateObject())
        {
            // Last write wins by event timestamp; on a tie the later event in the log wins.
            if (!state.Traits.TryGetValue(trait.Name, out var current) || at >= current.UpdatedAt)
                state.Traits[trait.Name] = new TraitValue(trait.Value.GetRawText(), at);
        }
    }

    private static void ApplyTrack(CustomerState state, string name, JsonElement properties, StoredEvent e, FoldSettings settings)
    {
        if (settings.Trackers.TryGetValue(name, out var trackers))
        {
            for (var i = 0; i < trackers.Count; i++)
            {
                var tracker = trackers[i];
                if (!tracker.Matches(properties)) continue;
                if (!state.Trackers.TryGetValue(tracker.Key, out var times) || times.Capacity < tracker.Capacity)
                    state.Trackers[tracker.Key] = times = Grow(times, tracker.Capacity);
                times.Add(e.Timestamp);
            }
        }

        if (name is TagEvents.TagAdded or TagEvents.TagRemoved)
        {
            CustomTag(state, name, properties, e.Timestamp, settings);
            return;
        }

        if (name is EngagementEvents.MessageOpened or EngagementEvents.MessageClicked)
        {
            if (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty("channel", out var ch) && ch.ValueKind == JsonValueKind.String && ch.GetString() is { Length: > 0 } channel)
                state.EngagementForUpdate[channel] = state.Engagement.GetValueOrDefault(channel) + (name == EngagementEvents.MessageClicked ? 3 : 1);
            return;
        }

        if (!CommerceEvents.IsCommerce(name)) return;
        var commerce = CommerceProperties.Read(name, properties.ValueKind == JsonValueKind.Object ? properties : EmptyObject);
        if (commerce is null) return;
        var stats = state.Stats;
        switch (name)
        {
            case CommerceEvents.ProductViewed:
                stats.ProductViews++;
                Interest(state, commerce.Products, ViewWeight);
                Touch(state, commerce.Products, e.Timestamp, carted: false, wished: false);
                break;
            case CommerceEvents.ProductAdded:
                stats.CartAdds++;
                Interest(state, commerce.Products, CartWeight);
                Touch(state, commerce.Products, null, carted: true, wished: false);
                foreach (var p in commerce.Products) AddToCart(state, p, p.Quantity);
                stats.CartChangedAt = e.Timestamp;
                break;
            case CommerceEvents.ProductRemoved:
                foreach (var p in commerce.Products) AddToCart(state, p, -p.Quantity);
                stats.CartChangedAt = e.Timestamp;
                break;
            case CommerceEvents.CartViewed when commerce.Products.Count > 0:
                // The shop showed the whole cart: it is the truth about what is in it.
                if (state.Cart.Count > 0) state.CartForUpdate.Clear();
                foreach (var p in commerce.Products) AddToCart(state, p, p.Quantity);
                stats.CartChangedAt = e.Timestamp;
                break;
            case CommerceEvents.ProductAddedToWishlist:
                if (commerce.Products[0].ProductId is { } wish && state.Favourites.Count < MaxFavourites) state.FavouritesForUpdate.Add(wish);
                Interest(state, commerce.Products, FavouriteWeight);
                Touch(state, commerce.Products, null, carted: false, wished: true);
                break;
            case CommerceEvents.ProductRemovedFromWishlist:
                if (commerce.Products[0].ProductId is { } unwish && state.Favourites.Contains(unwish)) state.FavouritesForUpdate.Remove(unwish);
                break;
            case CommerceEvents.OrderCompleted:
                Completed(state, commerce, e, settings);
                break;
            case CommerceEvents.OrderRefunded:
                Refunded(state, commerce, settings);
                break;
            case CommerceEvents.OrderCancelled:
                if (commerce.OrderId is { } cancelled && state.Orders.TryGetValue(cancelled, out var order))
                {
                    state.OrdersForUpdate[cancelled] = order with { Cancelled = true };
                    stats.Orders = OrderSummary.Of(state.Orders.Values);
                }

                break;
        }
    }

    private static void CustomTag(CustomerState state, string name, JsonElement properties, DateTimeOffset at, FoldSettings settings)
    {
        if (properties.ValueKind != JsonValueKind.Object || !properties.TryGetProperty("tag", out var t) || t.ValueKind != JsonValueKind.String) return;
        var tag = t.GetString()!;
        // A rule's tag is the rule's to set; a hand-set tag never overrides it.
        if (settings.RuleTags?.Contains(tag) == true || (state.Tags.TryGetValue(tag, out var current) && !current.Custom)) return;
        if (name == TagEvents.TagRemoved)
        {
            state.Tags.Remove(tag);
            return;
        }

        var value = properties.TryGetProperty("value", out var v) && Segments.EventTracker.Text(v) is { Length: > 0 } text ? text : "true";
        if (!state.Tags.TryGetValue(tag, out current) || current.Value != value) state.Tags[SharedNames.Share(tag)] = new TagValue(SharedNames.Share(value), at, Custom: true);
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement;

    private static RecentTimes Grow(RecentTimes? current, int capacity)
    {
        var grown = new RecentTimes(capacity);
        if (current is not null) foreach (var t in current.Times) grown.Add(t);
        return grown;
    }

    private static void Interest(CustomerState state, IReadOnlyList<CommerceProduct> products, int weight)
    {
        foreach (var p in products)
        {
            // Category and brand names repeat across customers: one shared copy each.
            if (p.Category is { } category) state.Categories.Add(SharedNames.Share(category), weight);
            if (p.Brand is { } brand) state.Brands.Add(SharedNames.Share(brand), weight);
        }
    }

    private static void Touch(CustomerState state, IReadOnlyList<CommerceProduct> products, DateTimeOffset? viewed, bool carted, bool wished)
    {
        foreach (var p in products)
            if (p.ProductId is { } id) state.Touch(new ProductTouch(id, viewed, carted, wished));
    }

    private static void AddToCart(CustomerState state, CommerceProduct p, decimal quantity)
    {
        if ((p.ProductId ?? p.Sku) is not { } id) return;
        var key = SharedNames.Share(id);
        var line = state.Cart.TryGetValue(key, out var current)
            ? current with { Quantity = current.Quantity + quantity, Price = p.Price ?? current.Price, Name = p.Name ?? current.Name, Category = p.Category ?? current.Category }
            : new CartLine(quantity, p.Price, p.Name, p.Category);
        if (line.Quantity > 0) state.CartForUpdate[key] = line;
        else if (state.Cart.ContainsKey(key)) state.CartForUpdate.Remove(key);
    }

    private static void Completed(CustomerState state, CommerceProperties order, StoredEvent e, FoldSettings settings)
    {
        // The same order reported twice (a retry with a new message id) counts once.
        var id = order.OrderId ?? e.MessageId;
        if (state.Orders.ContainsKey(id)) return;
        var amount = InShopCurrency(order, settings) ? order.Amount ?? 0 : 0;
        var coupon = order.Coupon is not null || order.Products.Any(p => p.Coupon is not null);
        var fresh = order.Products.Any(p => p.ProductId is { } pid && settings.ProductListedAt(pid) is { } listed
            && listed <= e.Timestamp && e.Timestamp - listed <= FoldSettings.NewProductAge);
        state.OrdersForUpdate[id] = new OrderRecord(e.Timestamp, amount, 0, false, coupon, fresh);
        state.Stats.Orders = OrderSummary.Of(state.Orders.Values);
        Interest(state, order.Products, PurchaseWeight);
        // Checking out empties the cart.
        if (state.Cart.Count > 0) state.CartForUpdate.Clear();
        state.Stats.CartChangedAt = e.Timestamp;
    }

    private static void Refunded(CustomerState state, CommerceProperties refund, FoldSettings settings)
    {
        // A refund names its order; without an amount (or its lines) it refunds the whole order.
        if (refund.OrderId is not { } id || !state.Orders.TryGetValue(id, out var order) || order.Cancelled) return;
        var amount = refund.Amount is { } a && InShopCurrency(refund, settings) ? Math.Abs(a) : order.Amount - order.Refunded;
        state.OrdersForUpdate[id] = order with { Refunded = Math.Min(order.Amount, order.Refunded + amount) };
        state.Stats.Orders = OrderSummary.Of(state.Orders.Values);
    }

    private static bool InShopCurrency(CommerceProperties p, FoldSettings settings) =>
        p.Currency is null || string.Equals(p.Currency, settings.Currency, StringComparison.OrdinalIgnoreCase);
}
