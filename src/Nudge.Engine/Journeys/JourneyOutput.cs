using Nudge.Engine.Messaging;

namespace Nudge.Engine.Journeys;

/// <summary>
/// Something a step does outside the customer's state. Each carries an idempotency key made of the
/// journey, version, instance and step, so carrying it out twice (a replay after a crash) has the
/// effect of once.
/// </summary>
/// <param name="Key">The idempotency key.</param>
public abstract record JourneyEffect(string Key);

/// <summary>A message intent for delivery.</summary>
/// <param name="Intent">The intent; its idempotency key is the effect's.</param>
public sealed record SendEffect(MessageIntent Intent) : JourneyEffect(Intent.IdempotencyKey);

/// <summary>A custom tag set (value) or removed (null).</summary>
/// <param name="Key">The idempotency key.</param>
/// <param name="Tag">The tag.</param>
/// <param name="Value">The value, or null to remove it.</param>
public sealed record TagEffect(string Key, string Tag, string? Value) : JourneyEffect(Key);

/// <summary>Traits set on the profile.</summary>
/// <param name="Key">The idempotency key.</param>
/// <param name="TraitsJson">A JSON object of trait: value.</param>
public sealed record TraitsEffect(string Key, string TraitsJson) : JourneyEffect(Key);

/// <summary>A coupon code issued to the customer.</summary>
/// <param name="Key">The idempotency key.</param>
/// <param name="Campaign">The coupon campaign.</param>
public sealed record CouponEffect(string Key, string Campaign) : JourneyEffect(Key);

/// <summary>A follow-up task for customer service.</summary>
/// <param name="Key">The idempotency key.</param>
/// <param name="JourneyId">The journey.</param>
/// <param name="StepId">The step.</param>
/// <param name="Title">What to do.</param>
/// <param name="Note">Details.</param>
/// <param name="Queue">The team it goes to.</param>
/// <param name="TriggerJson">The instance's triggering object.</param>
public sealed record TaskEffect(string Key, string JourneyId, string StepId, string Title, string? Note, string Queue, string? TriggerJson) : JourneyEffect(Key);

/// <summary>What happened to an instance, for counts and the customer's journey history.</summary>
/// <param name="JourneyId">The journey.</param>
/// <param name="Version">The version.</param>
/// <param name="Instance">The instance number (per customer).</param>
/// <param name="Kind">One of <see cref="ActivityKinds"/>.</param>
/// <param name="Step">The step reached (for <c>step</c>), else null.</param>
/// <param name="Reason">For <c>ended</c>: completed, goal, or the exit reason; for <c>step</c> on a split: the variant.</param>
/// <param name="At">When, on the journey's clock (a wait's step runs at the wait's due time).</param>
public sealed record JourneyActivity(string JourneyId, int Version, long Instance, string Kind, string? Step, string? Reason, DateTimeOffset At);

/// <summary>Kinds of <see cref="JourneyActivity"/>.</summary>
public static class ActivityKinds
{
    /// <summary>The customer entered the journey.</summary>
    public const string Entered = "entered";

    /// <summary>The customer would have entered but was kept out as part of the holdout.</summary>
    public const string Holdout = "holdout";

    /// <summary>The instance reached a step.</summary>
    public const string Step = "step";

    /// <summary>The instance ended; the reason says how.</summary>
    public const string Ended = "ended";
}

/// <summary>Reasons an instance ends, besides an exit step's own reason.</summary>
public static class EndReasons
{
    /// <summary>It ran past its last step.</summary>
    public const string Completed = "completed";

    /// <summary>Its goal event came: a conversion.</summary>
    public const string Goal = "goal";

    /// <summary>Its journey version is gone.</summary>
    public const string JourneyRemoved = "journey_removed";

    /// <summary>An edit migrated it to a version without its step.</summary>
    public const string StepRemoved = "step_removed";

    /// <summary>An edit moved it to a newer version (it goes on there).</summary>
    public const string Migrated = "migrated";

    /// <summary>The customer was merged into another.</summary>
    public const string Merged = "merged";
}

/// <summary>What running journeys produced: effects to carry out, activity to record.</summary>
public sealed class JourneyOutput
{
    /// <summary>Effects, in the order the steps ran.</summary>
    public List<JourneyEffect> Effects { get; } = [];

    /// <summary>Activity, oldest first.</summary>
    public List<JourneyActivity> Activity { get; } = [];
}
