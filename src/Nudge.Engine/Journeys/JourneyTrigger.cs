using Nudge.Engine.Customers;

namespace Nudge.Engine.Journeys;

/// <summary>What lets a customer into a journey.</summary>
public abstract record JourneyTrigger
{
    /// <summary>As written in definitions, for reports.</summary>
    public abstract string Describe();
}

/// <summary>An event of the customer (with property filters), e.g. Product Added.</summary>
/// <param name="Event">The event.</param>
public sealed record EventTrigger(EventMatch Event) : JourneyTrigger
{
    /// <inheritdoc/>
    public override string Describe() => $"event {Event.Name}";
}

/// <summary>
/// A change the definitions made of the customer: a segment entered or left, a tag added, a lifecycle
/// stage changed (to a given stage, or any).
/// </summary>
/// <param name="Kind">One of <see cref="ChangeKinds"/>: segment_entered, segment_left, tag_added, stage_changed.</param>
/// <param name="Name">The segment id or tag name; for stages, the stage entered (null: any).</param>
/// <param name="Value">For tags: the value required (null: any).</param>
public sealed record ChangeTrigger(string Kind, string? Name, string? Value) : JourneyTrigger
{
    /// <summary>Whether a change lets the customer in.</summary>
    public bool Matches(CustomerChange change)
    {
        if (Kind == ChangeKinds.StageChanged) return change.Kind == ChangeKinds.StageChanged && change.Value is not null && (Name is null || Name == change.Value);
        // A tag rule whose value changes counts as the tag being added with that value.
        if (Kind == ChangeKinds.TagAdded)
            return change.Kind is ChangeKinds.TagAdded or ChangeKinds.TagChanged && change.Name == Name && (Value is null || Value == change.Value);
        return change.Kind == Kind && change.Name == Name;
    }

    /// <inheritdoc/>
    public override string Describe() => $"{Kind} {Name}";
}

/// <summary>A date of the customer (birthday, anniversary, membership date, expected next order), with an offset, at a local time.</summary>
/// <param name="Date">The date and when on it.</param>
public sealed record DateTrigger(DateSource Date) : JourneyTrigger
{
    /// <inheritdoc/>
    public override string Describe() => $"date {Date.Trait ?? "next_order"}";
}

/// <summary>
/// A send at set times to everyone in a segment (or every customer): a broadcast, or the start of a
/// multi-phase promotion. Each occurrence lets each member in once.
/// </summary>
/// <param name="Segment">The segment whose members enter; null: every customer.</param>
/// <param name="At">The first occurrence.</param>
/// <param name="Every">For a recurring schedule: the time between occurrences.</param>
/// <param name="Until">For a recurring schedule: no occurrence after this.</param>
/// <param name="When">A condition each customer must meet at the occurrence (segment grammar), besides the segment.</param>
public sealed record ScheduleTrigger(string? Segment, DateTimeOffset At, TimeSpan? Every, DateTimeOffset? Until, Segments.Condition? When = null) : JourneyTrigger
{
    /// <summary>The latest occurrence at or before <paramref name="now"/>, or null when the first is still ahead.</summary>
    public DateTimeOffset? LatestDue(DateTimeOffset now)
    {
        if (now < At) return null;
        if (Every is not { } every) return At;
        var last = Until is { } until && until < now ? until : now;
        return At + every * Math.Floor((last - At) / every);
    }

    /// <summary>The first occurrence after <paramref name="after"/>, or null when there is none.</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset after)
    {
        if (after < At) return At;
        if (Every is not { } every) return null;
        var next = At + every * (Math.Floor((after - At) / every) + 1);
        return Until is { } until && next > until ? null : next;
    }

    /// <inheritdoc/>
    public override string Describe() => $"schedule {Segment ?? "everyone"}";
}

/// <summary>
/// A catalog change that concerns the customer: the price of an item they favourited, left in the cart
/// or viewed recently dropped, or such an item is back in stock.
/// </summary>
/// <param name="Change"><c>price_drop</c> or <c>back_in_stock</c>.</param>
/// <param name="Items">Which relations count: favourited, cart, viewed.</param>
/// <param name="MinDropPercent">For price drops: the smallest drop that counts, in percent.</param>
/// <param name="ViewedWithin">How recent a view must be to count.</param>
public sealed record CatalogTrigger(string Change, IReadOnlyList<string> Items, decimal MinDropPercent, TimeSpan ViewedWithin) : JourneyTrigger
{
    /// <summary>The changes a catalog trigger can name.</summary>
    public static readonly IReadOnlyList<string> Changes = ["price_drop", "back_in_stock"];

    /// <summary>The item relations a catalog trigger can name.</summary>
    public static readonly IReadOnlyList<string> Relations = ["favourited", "cart", "viewed"];

    /// <summary>How the customer relates to the product, or null when the change does not concern them (or is too small).</summary>
    public string? Relation(CustomerState customer, CatalogOffer offer, DateTimeOffset? lastViewed, DateTimeOffset now)
    {
        if (offer.Change != Change) return null;
        if (Change == "price_drop" && (offer.DropPercent is not { } drop || drop < MinDropPercent)) return null;
        if (Items.Contains("favourited") && customer.Favourites.Contains(offer.ProductId)) return "favourited";
        if (Items.Contains("cart") && customer.Cart.ContainsKey(offer.ProductId)) return "cart";
        if (Items.Contains("viewed") && lastViewed is { } viewed && now - viewed <= ViewedWithin) return "viewed";
        return null;
    }

    /// <inheritdoc/>
    public override string Describe() => $"catalog {Change}";
}

/// <summary>A catalog change as journeys see it: the product and what changed.</summary>
/// <param name="Change"><c>price_drop</c> or <c>back_in_stock</c>.</param>
/// <param name="ProductId">The product.</param>
/// <param name="Name">Its name.</param>
/// <param name="Price">The price now.</param>
/// <param name="PreviousPrice">For price drops: the price before.</param>
/// <param name="Stock">The stock now.</param>
/// <param name="Url">The product page.</param>
/// <param name="ImageUrl">Its image.</param>
/// <param name="At">When it changed.</param>
public sealed record CatalogOffer(string Change, string ProductId, string? Name, decimal? Price, decimal? PreviousPrice, long? Stock, string? Url, string? ImageUrl, DateTimeOffset At)
{
    /// <summary>How much the price fell, in percent; null when it did not fall.</summary>
    public decimal? DropPercent => Price is { } now && PreviousPrice is { } before && before > 0 && now < before ? decimal.Round((before - now) / before * 100, 2) : null;
}
