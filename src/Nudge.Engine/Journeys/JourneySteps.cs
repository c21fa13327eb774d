namespace Nudge.Engine.Journeys;

/// <summary>One step of a journey. Each has an id unique in its journey and, optionally, the id of the step that follows.</summary>
/// <param name="Id">The step id, e.g. <c>reminder</c>; part of the idempotency key of what it sends.</param>
/// <param name="Next">The following step; when absent, the next one in the list (or the end).</param>
public abstract record JourneyStep(string Id, string? Next)
{
    /// <summary>Steps an instance may go to from here (besides the end).</summary>
    public virtual IEnumerable<string> Targets => Next is null ? [] : [Next];

    /// <summary>The step's type as written in definitions.</summary>
    public abstract string Type { get; }
}

/// <summary>Waits a duration, until a time of day, until a date read from the customer, or until a fixed moment.</summary>
/// <param name="Id">The step id.</param>
/// <param name="Next">The following step.</param>
/// <param name="For">A duration.</param>
/// <param name="UntilTime">The next occurrence of a local time of day.</param>
/// <param name="UntilDate">A date from a trait or the expected next order; a date already past does not wait.</param>
/// <param name="Until">A fixed moment, e.g. the start of a promotion's next phase; a moment already past does not wait.</param>
public sealed record WaitStep(string Id, string? Next, TimeSpan? For, TimeOfDay? UntilTime, DateSource? UntilDate, DateTimeOffset? Until = null) : JourneyStep(Id, Next)
{
    /// <inheritdoc/>
    public override string Type => "wait";
}

/// <summary>Waits for an event, at most <paramref name="Within"/>; goes to <paramref name="Then"/> if it came, <paramref name="Timeout"/> if not.</summary>
/// <param name="Id">The step id.</param>
/// <param name="Event">The event awaited.</param>
/// <param name="Within">How long to wait.</param>
/// <param name="Then">Where to go when it came (default: the next step).</param>
/// <param name="Timeout">Where to go when it did not (default: the next step).</param>
public sealed record WaitForStep(string Id, EventMatch Event, TimeSpan Within, string? Then, string? Timeout) : JourneyStep(Id, null)
{
    /// <inheritdoc/>
    public override IEnumerable<string> Targets => new[] { Then, Timeout }.OfType<string>();

    /// <inheritdoc/>
    public override string Type => "wait_for";
}

/// <summary>Goes down the first path whose condition holds, else to the default.</summary>
/// <param name="Id">The step id.</param>
/// <param name="Paths">Conditions and where each leads, tried in order.</param>
/// <param name="Default">Where to go when none holds.</param>
public sealed record BranchStep(string Id, IReadOnlyList<BranchPath> Paths, string Default) : JourneyStep(Id, null)
{
    /// <inheritdoc/>
    public override IEnumerable<string> Targets => Paths.Select(p => p.Next).Append(Default);

    /// <inheritdoc/>
    public override string Type => "branch";
}

/// <summary>One path of a <see cref="BranchStep"/>.</summary>
/// <param name="When">The condition.</param>
/// <param name="Next">Where it leads.</param>
public sealed record BranchPath(JourneyCondition When, string Next);

/// <summary>Sends each customer down one path by fixed percentages, the same path every time for the same customer (A/B/n).</summary>
/// <param name="Id">The step id.</param>
/// <param name="Paths">Percentages (summing to 100) and where each leads.</param>
public sealed record SplitStep(string Id, IReadOnlyList<SplitPath> Paths) : JourneyStep(Id, null)
{
    /// <inheritdoc/>
    public override IEnumerable<string> Targets => Paths.Select(p => p.Next);

    /// <inheritdoc/>
    public override string Type => "split";
}

/// <summary>One path of a <see cref="SplitStep"/>.</summary>
/// <param name="Percent">Share of customers, 1–100.</param>
/// <param name="Next">Where it leads.</param>
/// <param name="Name">The variant's name in reports (default: the target step id).</param>
public sealed record SplitPath(int Percent, string Next, string Name);

/// <summary>Hands a message intent to delivery.</summary>
/// <param name="Id">The step id.</param>
/// <param name="Next">The following step.</param>
/// <param name="Channel">A channel, or <c>best</c>.</param>
/// <param name="Template">The message template.</param>
/// <param name="Topic">marketing (default) or transactional.</param>
/// <param name="Coupon">A coupon campaign to issue a code from, shown in the message.</param>
public sealed record SendStep(string Id, string? Next, string Channel, string Template, string Topic, string? Coupon) : JourneyStep(Id, Next)
{
    /// <inheritdoc/>
    public override string Type => "send";
}

/// <summary>Changes the profile: tags added or removed, traits set.</summary>
/// <param name="Id">The step id.</param>
/// <param name="Next">The following step.</param>
/// <param name="AddTags">Custom tags to set, with their values ("true" for plain tags).</param>
/// <param name="RemoveTags">Custom tags to remove.</param>
/// <param name="SetTraits">Traits to set, as a JSON object.</param>
public sealed record UpdateStep(string Id, string? Next, IReadOnlyList<KeyValuePair<string, string>> AddTags, IReadOnlyList<string> RemoveTags, string? SetTraits) : JourneyStep(Id, Next)
{
    /// <inheritdoc/>
    public override string Type => "update";
}

/// <summary>Issues a coupon code to the customer without sending a message.</summary>
/// <param name="Id">The step id.</param>
/// <param name="Next">The following step.</param>
/// <param name="Campaign">The coupon campaign.</param>
public sealed record CouponStep(string Id, string? Next, string Campaign) : JourneyStep(Id, Next)
{
    /// <inheritdoc/>
    public override string Type => "coupon";
}

/// <summary>Posts the customer and the instance's triggering object to the configured webhook channel, rendered by a template.</summary>
/// <param name="Id">The step id.</param>
/// <param name="Next">The following step.</param>
/// <param name="Template">The template of the webhook body.</param>
public sealed record WebhookStep(string Id, string? Next, string Template) : JourneyStep(Id, Next)
{
    /// <inheritdoc/>
    public override string Type => "webhook";
}

/// <summary>Opens a follow-up for customer service (客服跟进), listed through the API.</summary>
/// <param name="Id">The step id.</param>
/// <param name="Next">The following step.</param>
/// <param name="Title">What to do.</param>
/// <param name="Note">Details for whoever picks it up.</param>
/// <param name="Queue">The team or queue it goes to (default: service).</param>
public sealed record TaskStep(string Id, string? Next, string Title, string? Note, string Queue) : JourneyStep(Id, Next)
{
    /// <inheritdoc/>
    public override string Type => "task";
}

/// <summary>The conversion that counts as success: when the event arrives within the bound, the instance exits converted.</summary>
/// <param name="Id">The step id.</param>
/// <param name="Next">Where to go when the bound passes without it (default: the next step, or the end).</param>
/// <param name="Event">The conversion event.</param>
/// <param name="Within">How long it may take.</param>
public sealed record GoalStep(string Id, string? Next, EventMatch Event, TimeSpan Within) : JourneyStep(Id, Next)
{
    /// <inheritdoc/>
    public override string Type => "goal";
}

/// <summary>Ends the instance.</summary>
/// <param name="Id">The step id.</param>
/// <param name="Reason">Recorded as the exit reason.</param>
public sealed record ExitStep(string Id, string Reason) : JourneyStep(Id, null)
{
    /// <inheritdoc/>
    public override string Type => "exit";
}
