using System.Text.Json;
using Nudge.Engine.Customers;
using Nudge.Engine.Messaging;

namespace Nudge.Engine.Journeys;

/// <summary>An event as journeys see it.</summary>
/// <param name="Name">The track event name (null for identify and the like).</param>
/// <param name="Properties">Its properties (undefined when none).</param>
/// <param name="Timestamp">When it happened.</param>
/// <param name="Position">Its log position: an instance it starts is named by it, the same on every replay.</param>
public readonly record struct JourneyEvent(string? Name, JsonElement Properties, DateTimeOffset Timestamp, long Position = 0);

/// <summary>
/// Runs one customer's journeys: lets them in on triggers, moves their instances step by step, and
/// reports what the steps do. Pure — the clock, the definitions and the state come in; effects and
/// activity go out — so the grain, the backtest and tests run the same code. Deterministic for the
/// same inputs, which is what makes a replay after a crash repeat the same idempotency keys.
/// </summary>
/// <param name="journeys">The journeys in force.</param>
/// <param name="defaultZone">The time zone of customers without a <c>timezone</c> trait.</param>
public sealed class JourneyRunner(JourneySet journeys, TimeZoneInfo defaultZone)
{
    /// <summary>Events older than this when they arrive (imports, late batches) trigger no journey.</summary>
    public static readonly TimeSpan TriggerWindow = TimeSpan.FromDays(1);

    /// <summary>A date trigger noticed this late (after downtime) still lets the customer in.</summary>
    public static readonly TimeSpan DateGrace = TimeSpan.FromDays(1);

    // Bounds the steps one instance runs in one moment; the parser refuses loops without a wait.
    private const int MaxStepsAtOnce = 200;

    /// <summary>The journeys in force.</summary>
    public JourneySet Journeys => journeys;

    /// <summary>The time zone of customers without a <c>timezone</c> trait.</summary>
    public TimeZoneInfo DefaultZone => defaultZone;

    /// <summary>Whether an event of this name matters to the customer's journeys (worth reading its properties for).</summary>
    public bool Cares(CustomerState s, string? eventName) =>
        !journeys.IsEmpty && (s.Journeys.Count > 0 || (eventName is not null && journeys.EventTriggered.ContainsKey(eventName)));

    /// <summary>An event was applied to the customer: instances count it, exit on it or move on it, and it may let the customer in.</summary>
    public void OnEvent(CustomerState s, JourneyEvent e, DateTimeOffset now, JourneyOutput output)
    {
        if (journeys.IsEmpty) return;
        if (s.Journeys.Count > 0) Notice(s, e, now, output);
        if (e.Name is null || now - e.Timestamp > TriggerWindow || !journeys.EventTriggered.TryGetValue(e.Name, out var triggered)) return;
        foreach (var journey in triggered)
        {
            // The instance starts when the event happened, so its waits and bounds count from then.
            if (((EventTrigger)journey.Trigger).Event.Where.Matches(e.Properties))
                TryEnter(s, journey, e.Timestamp <= now ? e.Timestamp : now, now, $"e{e.Position}", e.Properties.ValueKind == JsonValueKind.Object ? e.Properties.GetRawText() : "{}", null, output);
        }
    }

    /// <summary>What the definitions made of the customer changed (segments, tags, stage): it may let them in.</summary>
    public void OnChanges(CustomerState s, IReadOnlyList<CustomerChange> changes, DateTimeOffset now, JourneyOutput output)
    {
        if (journeys.ChangeTriggered.Count == 0 || changes.Count == 0) return;
        foreach (var change in changes)
        {
            foreach (var journey in journeys.ChangeTriggered)
            {
                if (!((ChangeTrigger)journey.Trigger).Matches(change)) continue;
                var json = JsonSerializer.Serialize(new Dictionary<string, string?> { ["kind"] = change.Kind, ["name"] = change.Name, ["value"] = change.Value, ["previous"] = change.Previous });
                // A change noticed late (a time condition after downtime) enters at the time it happened.
                TryEnter(s, journey, change.At <= now ? change.At : now, now, null, json, null, output);
            }
        }
    }

    /// <summary>
    /// A scheduled journey's occurrence reached this customer (a member of its segment): they enter,
    /// once per occurrence, whatever the re-entry rule says about journeys entered by other triggers.
    /// </summary>
    public void OnSchedule(CustomerState s, string journeyId, DateTimeOffset occurrence, DateTimeOffset now, JourneyOutput output)
    {
        if (!journeys.Current.TryGetValue(journeyId, out var journey) || journey.Trigger is not ScheduleTrigger schedule) return;
        if (schedule.When is { } when && !when.Evaluate(s, new Segments.Evaluation(now))) return;
        if (s.JourneyEntries.TryGetValue(journeyId, out var entry) && entry.LastOccurrence >= occurrence) return;
        TryEnter(s, journey, now, now, $"s{occurrence.ToUnixTimeMilliseconds()}", JsonSerializer.Serialize(new Dictionary<string, string> { ["occurrence"] = occurrence.ToString("O") }), occurrence, output);
    }

    /// <summary>A catalog change that may concern this customer (they showed interest in the product): it may let them in.</summary>
    /// <param name="s">The customer.</param>
    /// <param name="offer">The change.</param>
    /// <param name="lastViewed">When they last viewed the product, if known.</param>
    /// <param name="now">The engine's clock.</param>
    /// <param name="output">Receives effects and activity.</param>
    public void OnCatalog(CustomerState s, CatalogOffer offer, DateTimeOffset? lastViewed, DateTimeOffset now, JourneyOutput output)
    {
        foreach (var journey in journeys.CatalogTriggered)
        {
            if (((CatalogTrigger)journey.Trigger).Relation(s, offer, lastViewed, now) is not { } relation) continue;
            var data = new Dictionary<string, object?>
            {
                ["change"] = offer.Change, ["product_id"] = offer.ProductId, ["name"] = offer.Name, ["price"] = offer.Price, ["previous_price"] = offer.PreviousPrice,
                ["drop_percent"] = offer.DropPercent, ["stock"] = offer.Stock, ["url"] = offer.Url, ["image_url"] = offer.ImageUrl, ["relation"] = relation,
            };
            TryEnter(s, journey, now, now, $"c{offer.At.ToUnixTimeMilliseconds()}", JsonSerializer.Serialize(data), null, output);
        }
    }

    /// <summary>Runs every instance whose time has come, and lets the customer into date-triggered journeys that are due.</summary>
    public void Advance(CustomerState s, DateTimeOffset now, JourneyOutput output)
    {
        if (journeys.IsEmpty) return;
        var zone = journeys.DateTriggered.Count > 0 ? LocalTime.ZoneOf(s, defaultZone) : defaultZone;
        foreach (var journey in journeys.DateTriggered)
        {
            var (last, _) = LocalTime.Occurrences(((DateTrigger)journey.Trigger).Date, s, zone, now);
            if (last is not { } due || now - due > DateGrace) continue;
            if (s.JourneyEntries.TryGetValue(journey.Id, out var entry) && entry.LastOccurrence >= due) continue;
            TryEnter(s, journey, now, now, $"d{due.ToUnixTimeMilliseconds()}", JsonSerializer.Serialize(new Dictionary<string, string> { ["date"] = due.ToString("O") }), due, output);
        }

        if (s.Journeys.Count == 0) return;
        // Instances can end (and leave the list) while running.
        foreach (var instance in s.Journeys.ToList())
            if (instance.WakeAt is not { } wake || wake <= now) Run(s, instance, now, output);
    }

    /// <summary>The parts of a customer's state <see cref="NextWake"/> reads: the instances, and the traits dates and time zones come from.</summary>
    public StateParts WakeReads => journeys.DateTriggered.Count > 0 ? StateParts.Journeys | StateParts.Traits : StateParts.Journeys;

    /// <summary>When time alone next does something for this customer: an instance's wait, or a date trigger.</summary>
    public DateTimeOffset? NextWake(CustomerState s, DateTimeOffset now)
    {
        DateTimeOffset? next = null;
        foreach (var instance in s.Journeys)
            if (instance.WakeAt is { } wake && (next is null || wake < next)) next = wake;
        var zone = journeys.DateTriggered.Count > 0 ? LocalTime.ZoneOf(s, defaultZone) : defaultZone;
        foreach (var journey in journeys.DateTriggered)
        {
            var (_, upcoming) = LocalTime.Occurrences(((DateTrigger)journey.Trigger).Date, s, zone, now);
            if (upcoming is { } at && (next is null || at < next)) next = at;
        }

        return next;
    }

    /// <summary>Ends every instance (the customer was merged into another).</summary>
    public static void EndAll(CustomerState s, string reason, DateTimeOffset now, JourneyOutput output)
    {
        foreach (var instance in s.Journeys.ToList()) End(s, instance, reason, now, output);
    }

    private void Notice(CustomerState s, JourneyEvent e, DateTimeOffset now, JourneyOutput output)
    {
        var engagement = e.Name is EngagementEvents.MessageOpened or EngagementEvents.MessageClicked
            && e.Properties.ValueKind == JsonValueKind.Object && e.Properties.TryGetProperty("source", out var src) && src.ValueKind == JsonValueKind.String
            ? src.GetString() : null;
        foreach (var instance in s.Journeys.ToList())
        {
            // Only what happened while the instance was inside counts (an old event backfilled late does not).
            if (journeys.Find(instance.JourneyId, instance.Version) is not { } journey || e.Timestamp < instance.EnteredAt) continue;
            // An event noticed after a wait it outlasted (a backlog, a restart): the steps due before
            // it run first, so what happens does not depend on whether the timer or the event came first.
            if (instance.WakeAt is { } wake && wake <= e.Timestamp && e.Timestamp <= now)
            {
                Run(s, instance, e.Timestamp, output);
                if (!s.Journeys.Contains(instance)) continue;
            }

            Count(s, instance, journey, e, engagement);
            if (journey.ExitWhen.FirstOrDefault(x => x.Event is { } match && match.Matches(e.Name, e.Properties)) is { } exit)
            {
                End(s, instance, exit.Reason, e.Timestamp <= now ? e.Timestamp : now, output);
                continue;
            }

            // An event counts for a wait_for or goal when it happened after the step was reached and before its bound.
            var inWindow = e.Timestamp >= instance.StepSince && (instance.WakeAt is not { } bound || e.Timestamp < bound);
            switch (journey.Step(instance.StepId))
            {
                case WaitForStep wait when inWindow && wait.Event.Matches(e.Name, e.Properties):
                    Move(s, instance, wait.Then ?? After(journey, wait), e.Timestamp <= now ? e.Timestamp : now, output);
                    Run(s, instance, now, output);
                    break;
                case GoalStep goal when inWindow && goal.Event.Matches(e.Name, e.Properties):
                    End(s, instance, EndReasons.Goal, e.Timestamp <= now ? e.Timestamp : now, output);
                    break;
            }
        }
    }

    private static void Count(CustomerState s, JourneyInstance instance, JourneyDefinition journey, JourneyEvent e, string? engagementSource)
    {
        foreach (var match in journey.Counters)
            if (match.Matches(e.Name, e.Properties)) instance.Counts[SinceEntry.Key(match)] = instance.Counts.GetValueOrDefault(SinceEntry.Key(match)) + 1;

        if (engagementSource is null || instance.StepOf(engagementSource, s.CustomerId) is not { } sentBy) return;
        // A click implies the message was opened, whether or not the pixel loaded.
        string[] actions = e.Name == EngagementEvents.MessageClicked ? ["opened", "clicked"] : ["opened"];
        foreach (var action in actions)
        {
            foreach (var key in new[] { Engaged.Key(action, null), Engaged.Key(action, sentBy) })
                instance.Counts[key] = instance.Counts.GetValueOrDefault(key) + 1;
        }
    }

    /// <param name="s">The customer.</param>
    /// <param name="journey">The journey.</param>
    /// <param name="at">When the instance starts: when its trigger happened.</param>
    /// <param name="now">The engine's clock: steps due by then run.</param>
    /// <param name="trigger">Names the instance in its idempotency keys, the same on every replay: the event's position, the occurrence; null for a change (then its number).</param>
    /// <param name="triggerJson">The triggering object.</param>
    /// <param name="occurrence">For dates and schedules: the occurrence. Each occurrence lets the customer in once, whatever the re-entry rule.</param>
    /// <param name="output">Receives effects and activity.</param>
    private void TryEnter(CustomerState s, JourneyDefinition journey, DateTimeOffset at, DateTimeOffset now, string? trigger, string triggerJson, DateTimeOffset? occurrence, JourneyOutput output)
    {
        if (!journey.Enabled) return;
        // One instance of a journey per customer at a time.
        foreach (var running in s.Journeys)
            if (running.JourneyId == journey.Id) return;
        var had = s.JourneyEntries.TryGetValue(journey.Id, out var entry);
        if (had && occurrence is null && journey.Reentry.Kind == ReentryKind.Once) return;
        if (had && occurrence is null && journey.Reentry.Kind == ReentryKind.Every && at - entry.LastEnteredAt < journey.Reentry.Every) return;
        var number = ++s.InstancesStarted;
        s.JourneyEntries[journey.Id] = new JourneyEntry(at, (had ? entry.Entries : 0) + 1, occurrence ?? (had ? entry.LastOccurrence : null));
        if (journey.HoldoutPercent > 0 && Bucket(s.CustomerId, journey.Id, "holdout") < journey.HoldoutPercent)
        {
            output.Activity.Add(new JourneyActivity(journey.Id, journey.Version, number, ActivityKinds.Holdout, null, null, at));
            return;
        }

        var instance = new JourneyInstance
        {
            Number = number, Trigger = trigger ?? $"n{number}", JourneyId = journey.Id, Version = journey.Version, StepId = journey.Steps[0].Id,
            EnteredAt = at, StepSince = at, TriggerJson = triggerJson,
        };
        instance.Counts[VisitKey(instance.StepId)] = 1;
        s.JourneysForUpdate.Add(instance);
        output.Activity.Add(new JourneyActivity(journey.Id, journey.Version, number, ActivityKinds.Entered, null, null, at));
        output.Activity.Add(new JourneyActivity(journey.Id, journey.Version, number, ActivityKinds.Step, instance.StepId, null, at));
        Run(s, instance, now, output);
    }

    /// <summary>Runs the instance's steps until one waits or it ends. Steps after a wait run at the wait's due time.</summary>
    private void Run(CustomerState s, JourneyInstance instance, DateTimeOffset now, JourneyOutput output)
    {
        for (var guard = 0; guard < MaxStepsAtOnce; guard++)
        {
            if (Migrate(s, instance, now, output) is not { } journey) return;
            if (journey.Step(instance.StepId) is not { } step)
            {
                End(s, instance, EndReasons.StepRemoved, now, output);
                return;
            }

            var at = instance.StepSince;
            if (journey.ExitWhen.FirstOrDefault(x => x.When is { } c && c.Evaluate(s, instance, at)) is { } exit)
            {
                End(s, instance, exit.Reason, at, output);
                return;
            }

            // A step passed again (a loop with a wait) is a new send: its visits are part of its key.
            var visit = instance.Counts.GetValueOrDefault(VisitKey(step.Id), 1);
            var key = visit == 1 ? $"{instance.KeyPrefix(s.CustomerId)}:{step.Id}" : $"{instance.KeyPrefix(s.CustomerId)}:{step.Id}:{visit}";
            string? next;
            switch (step)
            {
                case WaitStep wait:
                    instance.WakeAt ??= WakeTime(s, wait, instance.StepSince);
                    if (instance.WakeAt > now) return;
                    (next, at) = (After(journey, step), instance.WakeAt!.Value);
                    break;
                case WaitForStep waitFor:
                    instance.WakeAt ??= instance.StepSince + waitFor.Within;
                    if (instance.WakeAt > now) return;
                    (next, at) = (waitFor.Timeout ?? After(journey, step), instance.WakeAt.Value);
                    break;
                case GoalStep goal:
                    instance.WakeAt ??= instance.StepSince + goal.Within;
                    if (instance.WakeAt > now) return;
                    (next, at) = (After(journey, step), instance.WakeAt.Value);
                    break;
                case BranchStep branch:
                    next = branch.Paths.FirstOrDefault(p => p.When.Evaluate(s, instance, at))?.Next ?? branch.Default;
                    break;
                case SplitStep split:
                    next = Pick(split, Bucket(s.CustomerId, journey.Id, split.Id));
                    break;
                case SendStep send:
                    output.Effects.Add(new SendEffect(new MessageIntent(key, s.CustomerId, send.Channel, send.Topic, send.Template, instance.TriggerJson, send.Coupon, key)));
                    next = After(journey, step);
                    break;
                case UpdateStep update:
                    foreach (var (tag, value) in update.AddTags) output.Effects.Add(new TagEffect($"{key}:+{tag}", tag, value));
                    foreach (var tag in update.RemoveTags) output.Effects.Add(new TagEffect($"{key}:-{tag}", tag, null));
                    if (update.SetTraits is { } traits) output.Effects.Add(new TraitsEffect($"{key}:traits", traits));
                    next = After(journey, step);
                    break;
                case CouponStep coupon:
                    output.Effects.Add(new CouponEffect(key, coupon.Campaign));
                    next = After(journey, step);
                    break;
                case WebhookStep webhook:
                    output.Effects.Add(new SendEffect(new MessageIntent(key, s.CustomerId, ChannelNames.Webhook, Topics.Transactional, webhook.Template, instance.TriggerJson, null, key)));
                    next = After(journey, step);
                    break;
                case TaskStep task:
                    output.Effects.Add(new TaskEffect(key, journey.Id, step.Id, task.Title, task.Note, task.Queue, instance.TriggerJson));
                    next = After(journey, step);
                    break;
                case ExitStep exitStep:
                    End(s, instance, exitStep.Reason, at, output);
                    return;
                default:
                    throw new InvalidOperationException($"Step type {step.GetType().Name} has no runner.");
            }

            Move(s, instance, next, at, output, step is SplitStep chosen ? chosen.Paths.First(p => p.Next == next).Name : null);
            if (!s.Journeys.Contains(instance)) return;
        }

        // Only reachable through a definition the parser would refuse; never spin.
        End(s, instance, "too_many_steps", now, output);
    }

    /// <summary>The instance's journey version, after moving it to the current version when an edit migrated instances.</summary>
    private JourneyDefinition? Migrate(CustomerState s, JourneyInstance instance, DateTimeOffset now, JourneyOutput output)
    {
        if (journeys.Current.TryGetValue(instance.JourneyId, out var current) && current.Version > instance.Version
            && journeys.Versions.Any(v => v.Id == instance.JourneyId && v.Version > instance.Version && v.Migrate))
        {
            // Counted as leaving the old version and entering the new one, so each version's numbers add up.
            output.Activity.Add(new JourneyActivity(instance.JourneyId, instance.Version, instance.Number, ActivityKinds.Ended, null, EndReasons.Migrated, now));
            instance.Version = current.Version;
            output.Activity.Add(new JourneyActivity(instance.JourneyId, instance.Version, instance.Number, ActivityKinds.Entered, null, null, now));
            if (current.Step(instance.StepId) is null) End(s, instance, EndReasons.StepRemoved, now, output);
            return s.Journeys.Contains(instance) ? current : null;
        }

        if (journeys.Find(instance.JourneyId, instance.Version) is { } journey) return journey;
        End(s, instance, EndReasons.JourneyRemoved, now, output);
        return null;
    }

    private DateTimeOffset WakeTime(CustomerState s, WaitStep wait, DateTimeOffset since)
    {
        if (wait.For is { } span) return since + span;
        if (wait.Until is { } moment) return moment > since ? moment : since;
        var zone = LocalTime.ZoneOf(s, defaultZone);
        if (wait.UntilTime is { } time) return LocalTime.NextTimeOfDay(since, time, zone);
        // A date already past (or unknown) does not hold the instance.
        var (_, next) = LocalTime.Occurrences(wait.UntilDate!, s, zone, since);
        return next ?? since;
    }

    private static string? After(JourneyDefinition journey, JourneyStep step) => journey.After(step);

    private static void Move(CustomerState s, JourneyInstance instance, string? next, DateTimeOffset at, JourneyOutput output, string? variant = null)
    {
        if (next is null)
        {
            End(s, instance, EndReasons.Completed, at, output);
            return;
        }

        (instance.StepId, instance.StepSince, instance.WakeAt) = (next, at, null);
        instance.Counts[VisitKey(next)] = instance.Counts.GetValueOrDefault(VisitKey(next)) + 1;
        output.Activity.Add(new JourneyActivity(instance.JourneyId, instance.Version, instance.Number, ActivityKinds.Step, next, variant, at));
    }

    private static string VisitKey(string stepId) => "#" + stepId;

    private static void End(CustomerState s, JourneyInstance instance, string reason, DateTimeOffset at, JourneyOutput output)
    {
        s.JourneysForUpdate.Remove(instance);
        output.Activity.Add(new JourneyActivity(instance.JourneyId, instance.Version, instance.Number, ActivityKinds.Ended, null, reason, at));
    }

    private static string Pick(SplitStep split, int bucket)
    {
        var total = 0;
        foreach (var path in split.Paths)
        {
            total += path.Percent;
            if (bucket < total) return path.Next;
        }

        return split.Paths[^1].Next;
    }

    /// <summary>A stable number 0–99 per customer and purpose: the same customer always lands in the same holdout and split path.</summary>
    public static int Bucket(string customerId, string journeyId, string purpose)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in $"{journeyId}\n{purpose}\n{customerId}") hash = (hash ^ c) * 1099511628211UL;
        return (int)(hash % 100);
    }
}
