namespace Nudge.Engine.Messaging;

/// <summary>
/// How delivery decides whether, when and where a message goes. Defaults follow the seeds: at most 2
/// marketing messages a day and 5 a week per customer, quiet from 21:00 to 08:00 local time.
/// </summary>
public sealed record PolicySettings
{
    /// <summary>Marketing messages per customer per local calendar day, all channels together.</summary>
    public int DailyCap { get; init; } = 2;

    /// <summary>Marketing messages per customer in the last 7 local calendar days (today and the 6 before).</summary>
    public int WeeklyCap { get; init; } = 5;

    /// <summary>Tighter caps for single channels, e.g. <c>sms: {daily: 1}</c>.</summary>
    public IReadOnlyDictionary<string, ChannelCap> ChannelCaps { get; init; } = new Dictionary<string, ChannelCap>();

    /// <summary>Start of the quiet hours in the customer's local time; null turns quiet hours off.</summary>
    public TimeOnly? QuietStart { get; init; } = new(21, 0);

    /// <summary>End of the quiet hours in the customer's local time: deferred messages go out then.</summary>
    public TimeOnly QuietEnd { get; init; } = new(8, 0);

    /// <summary>The order "best channel" tries channels in after the ones the customer engages with.</summary>
    public IReadOnlyList<string> Fallback { get; init; } = ChannelNames.All;

    /// <summary>
    /// Channels where being reachable is consent enough for marketing until the customer opts out:
    /// the in-app inbox (read inside the shop's own app) and the shop's own webhook.
    /// </summary>
    public IReadOnlySet<string> ImplicitConsent { get; init; } = new HashSet<string> { ChannelNames.Inbox, ChannelNames.Webhook };

    /// <summary>The time zone of customers without a <c>timezone</c> trait.</summary>
    public TimeZoneInfo DefaultTimeZone { get; init; } = TimeZoneInfo.Utc;
}

/// <summary>A cap for one channel; null means only the global caps apply.</summary>
/// <param name="Daily">Marketing messages on this channel per local day.</param>
/// <param name="Weekly">Marketing messages on this channel in the last 7 local days.</param>
public sealed record ChannelCap(int? Daily, int? Weekly);
