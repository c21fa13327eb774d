namespace Nudge.Engine.Customers;

/// <summary>
/// The parts of a stored customer state that can be left undecoded when only some are read: a full
/// re-evaluation decodes a million customers for the few parts its segments look at. The customer id,
/// the stats counted event by event, the lifecycle stage and RFM are always decoded; linked ids only
/// with <see cref="All"/>.
/// </summary>
[Flags]
public enum StateParts
{
    /// <summary>Only what is always decoded.</summary>
    None = 0,
    /// <summary>Profile traits.</summary>
    Traits = 1 << 0,
    /// <summary>The cart's lines.</summary>
    Cart = 1 << 1,
    /// <summary>Orders, and the order stats derived from them.</summary>
    Orders = 1 << 2,
    /// <summary>Category affinity.</summary>
    Categories = 1 << 3,
    /// <summary>Brand affinity.</summary>
    Brands = 1 << 4,
    /// <summary>Wishlist.</summary>
    Favourites = 1 << 5,
    /// <summary>Engagement per channel.</summary>
    Engagement = 1 << 6,
    /// <summary>Event counters.</summary>
    Trackers = 1 << 7,
    /// <summary>Tags.</summary>
    Tags = 1 << 8,
    /// <summary>Segment memberships.</summary>
    Segments = 1 << 9,
    /// <summary>Journey instances and the history of journeys entered.</summary>
    Journeys = 1 << 10,
    /// <summary>Everything, for a state that will be changed and written back.</summary>
    All = ~0,
}
