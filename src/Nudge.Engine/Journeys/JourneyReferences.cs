namespace Nudge.Engine.Journeys;

/// <summary>
/// What a journey may refer to on this engine: templates, coupon campaigns, segments, channels. A
/// reference to anything missing is reported when the journey is validated or saved.
/// </summary>
/// <param name="Templates">Message template ids.</param>
/// <param name="CouponCampaigns">Coupon campaign ids.</param>
/// <param name="Segments">Segment ids.</param>
/// <param name="Channels">Configured channel names (a journey may always use <c>best</c>).</param>
public sealed record JourneyReferences(IReadOnlySet<string> Templates, IReadOnlySet<string> CouponCampaigns, IReadOnlySet<string> Segments, IReadOnlySet<string> Channels);
