using Nudge.Engine.Segments;

namespace Nudge.Engine.Customers;

/// <summary>What folding events needs beyond the events themselves.</summary>
/// <param name="Currency">The shop currency (ISO 4217): revenue stats count orders in it (or without a currency).</param>
/// <param name="ProductListedAt">When a product was first listed in the catalog, for the new-product purchase ratio; null when unknown.</param>
/// <param name="Trackers">The event counters the current definitions need, by event name.</param>
/// <param name="RuleTags">Tag names owned by tag rules: Tag Added events cannot set them by hand.</param>
public sealed record FoldSettings(
    string Currency,
    Func<string, DateTimeOffset?> ProductListedAt,
    IReadOnlyDictionary<string, IReadOnlyList<EventTracker>> Trackers,
    IReadOnlySet<string>? RuleTags = null)
{
    /// <summary>A product bought within this long of its listing counts as a new product.</summary>
    public static readonly TimeSpan NewProductAge = TimeSpan.FromDays(30);

    /// <summary>Activity more than this long after the previous activity starts a new session.</summary>
    public static readonly TimeSpan SessionGap = TimeSpan.FromMinutes(30);

    /// <summary>Settings with no catalog and no trackers.</summary>
    public static FoldSettings Plain(string currency) => new(currency, _ => null, new Dictionary<string, IReadOnlyList<EventTracker>>());
}

/// <summary>Events through which delivery reports engagement; they carry a <c>channel</c> property.</summary>
public static class EngagementEvents
{
    /// <summary>A message was opened (email pixel, in-app read).</summary>
    public const string MessageOpened = "Message Opened";

    /// <summary>A link in a message was clicked.</summary>
    public const string MessageClicked = "Message Clicked";
}
