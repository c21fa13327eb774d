using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Nudge.Engine.Customers;
using Nudge.Engine.Messaging;
using Nudge.Engine.Segments;

namespace Nudge.Engine.Journeys;

/// <summary>
/// Reads a journey document (the JSON form of the YAML files; format in docs/journeys.md) and checks
/// it whole: every problem is reported with the path of the part at fault, not just the first.
/// </summary>
public sealed partial class JourneyParser
{
    private static readonly string[] StepTypes = ["wait", "wait_for", "branch", "split", "send", "update", "coupon", "webhook", "task", "goal", "exit"];
    private readonly List<DefinitionError> _errors;
    private readonly JourneyReferences? _references;

    private JourneyParser(List<DefinitionError> errors, JourneyReferences? references) => (_errors, _references) = (errors, references);

    /// <summary>Parses a journey; null when anything is wrong (each problem is added to <paramref name="errors"/>).</summary>
    /// <param name="json">The document.</param>
    /// <param name="version">The version it will be saved as.</param>
    /// <param name="references">What exists on this engine; null skips checking references (templates, coupons, segments, channels).</param>
    /// <param name="errors">Receives the problems.</param>
    public static JourneyDefinition? Parse(JsonElement json, int version, JourneyReferences? references, List<DefinitionError> errors)
    {
        var before = errors.Count;
        var journey = new JourneyParser(errors, references).Journey(json, version);
        return errors.Count == before ? journey : null;
    }

    private JourneyDefinition? Journey(JsonElement e, int version)
    {
        if (e.ValueKind != JsonValueKind.Object) return Fail<JourneyDefinition>("$", "a journey must be an object with id, trigger and steps");
        Known(e, "$", "id", "name", "description", "enabled", "trigger", "reentry", "holdout_percent", "exit_when", "steps", "migrate");
        var id = Required(e, "id", "$") is { } raw ? Id(raw, "$.id") : null;
        var name = e.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : id ?? "";
        var enabled = !e.TryGetProperty("enabled", out var en) || Bool(en, "$.enabled");
        var migrate = e.TryGetProperty("migrate", out var mg) && Bool(mg, "$.migrate");
        var trigger = e.TryGetProperty("trigger", out var t) ? Trigger(t, "$.trigger") : Fail<JourneyTrigger>("$", "needs a trigger: what lets a customer in, e.g. {event: Product Added}");
        var reentry = e.TryGetProperty("reentry", out var r) ? Reentry(r, "$.reentry") : Journeys.Reentry.Once;
        var holdout = 0;
        if (e.TryGetProperty("holdout_percent", out var h))
        {
            if (h.ValueKind != JsonValueKind.Number || !h.TryGetInt32(out holdout) || holdout is < 0 or > 50)
                Fail<object>("$.holdout_percent", "must be a whole number from 0 to 50");
        }

        List<ExitCriterion> exits = [];
        if (e.TryGetProperty("exit_when", out var x))
        {
            if (x.ValueKind != JsonValueKind.Array) Fail<object>("$.exit_when", "must be a list, e.g. [{event: Order Completed}]");
            else exits = [.. x.EnumerateArray().Select((c, i) => Exit(c, $"$.exit_when[{i}]")).OfType<ExitCriterion>()];
        }

        List<JourneyStep> steps = [];
        if (!e.TryGetProperty("steps", out var s) || s.ValueKind != JsonValueKind.Array || s.GetArrayLength() == 0)
            Fail<object>("$.steps", "must be a non-empty list of steps");
        else steps = [.. s.EnumerateArray().Select((step, i) => Step(step, $"$.steps[{i}]")).OfType<JourneyStep>()];
        if (steps.Count > 0 && steps.Count == s.GetArrayLength()) CheckGraph(steps);
        if (id is null || trigger is null || reentry is null) return null;
        return new JourneyDefinition(id, version, name, trigger, reentry, holdout, exits, steps, enabled, migrate);
    }

    private JourneyTrigger? Trigger(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Object) return Fail<JourneyTrigger>(path, "must be an object, e.g. {event: Product Added}");
        if (e.TryGetProperty("event", out _)) return Event(e, path, "event", []) is { } match ? new EventTrigger(match) : null;
        foreach (var kind in new[] { ChangeKinds.SegmentEntered, ChangeKinds.SegmentLeft })
        {
            if (!e.TryGetProperty(kind, out _)) continue;
            Known(e, path, kind);
            var segment = Required(e, kind, path);
            if (segment is not null) Segment(segment, $"{path}.{kind}");
            return segment is null ? null : new ChangeTrigger(kind, segment, null);
        }

        if (e.TryGetProperty("tag_added", out _))
        {
            Known(e, path, "tag_added", "value");
            var tag = Required(e, "tag_added", path);
            var value = e.TryGetProperty("value", out var v) ? EventTracker.Text(v) ?? Fail<string>($"{path}.value", "must be a string, number or boolean") : null;
            return tag is null ? null : new ChangeTrigger(ChangeKinds.TagAdded, tag, value);
        }

        if (e.TryGetProperty("stage_changed", out _))
        {
            Known(e, path, "stage_changed");
            var stage = Required(e, "stage_changed", path);
            return stage is null ? null : new ChangeTrigger(ChangeKinds.StageChanged, stage == "any" ? null : stage, null);
        }

        if (e.TryGetProperty("date", out _)) return Date(e, path, "date") is { } date ? new DateTrigger(date) : null;
        if (e.TryGetProperty("schedule", out var schedule)) return Known(e, path, "schedule") ? Schedule(schedule, $"{path}.schedule") : null;
        if (e.TryGetProperty("catalog", out _)) return Catalog(e, path);
        return Fail<JourneyTrigger>(path, "needs one of event, segment_entered, segment_left, tag_added, stage_changed, date, schedule, catalog");
    }

    private CatalogTrigger? Catalog(JsonElement e, string path)
    {
        Known(e, path, "catalog", "items", "min_drop_percent", "viewed_within");
        var change = Required(e, "catalog", path);
        if (change is not null && !CatalogTrigger.Changes.Contains(change))
            change = Fail<string>($"{path}.catalog", $"must be {string.Join(" or ", CatalogTrigger.Changes)}");
        List<string> items = [.. CatalogTrigger.Relations];
        if (e.TryGetProperty("items", out var i))
        {
            items = i.ValueKind == JsonValueKind.Array ? [.. i.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : "")] : [];
            if (items.Count == 0 || items.Any(x => !CatalogTrigger.Relations.Contains(x)))
                Fail<object>($"{path}.items", $"must be a list of {string.Join(", ", CatalogTrigger.Relations)}");
        }

        decimal minDrop = 1;
        if (e.TryGetProperty("min_drop_percent", out var m) && (m.ValueKind != JsonValueKind.Number || !m.TryGetDecimal(out minDrop) || minDrop is <= 0 or >= 100))
            Fail<object>($"{path}.min_drop_percent", "must be a number between 0 and 100");
        var within = TimeSpan.FromDays(30);
        if (e.TryGetProperty("viewed_within", out var v) && (v.ValueKind != JsonValueKind.String || ParseDuration(v.GetString()!) is not { } w || (within = w) > TimeSpan.FromDays(365)))
            Fail<object>($"{path}.viewed_within", "must be a duration of at most a year, such as 30d");
        return change is null ? null : new CatalogTrigger(change, items, minDrop, within);
    }

    private ScheduleTrigger? Schedule(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Object) return Fail<ScheduleTrigger>(path, "must be {at: \"2026-11-01T10:00:00+08:00\", segment: ID, every: 7d, until: TIME}");
        Known(e, path, "at", "segment", "every", "until", "when");
        var when = e.TryGetProperty("when", out var w) ? ConditionParser.Parse(w, $"{path}.when", _errors) : null;
        DateTimeOffset? at = null;
        if (e.TryGetProperty("at", out var a)) at = Moment(a, $"{path}.at");
        else Fail<object>(path, "needs at: the first send, e.g. \"2026-11-01T10:00:00+08:00\"");
        var segment = e.TryGetProperty("segment", out var s) ? Text(s, $"{path}.segment") : null;
        if (segment is not null) Segment(segment, $"{path}.segment");
        TimeSpan? every = null;
        if (e.TryGetProperty("every", out var ev) && (ev.ValueKind != JsonValueKind.String || (every = ParseDuration(ev.GetString()!)) is null || every < TimeSpan.FromHours(1)))
            Fail<object>($"{path}.every", "must be a duration of at least an hour, such as 1d or 1w");
        var until = e.TryGetProperty("until", out var u) ? Moment(u, $"{path}.until") : null;
        if (until is not null && every is null) Fail<object>($"{path}.until", "only a recurring schedule (with every) has an until");
        if (until is not null && at is not null && until <= at) Fail<object>($"{path}.until", "must be after at");
        return at is { } first ? new ScheduleTrigger(segment, first, every, until, when) : null;
    }

    private DateTimeOffset? Moment(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.String && e.GetString() is { } text && text.Length > 10 && (text.EndsWith('Z') || text[^6] is '+' or '-')
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at)) return at;
        Fail<object>(path, "must be a date and time with its UTC offset, such as \"2026-11-11T00:00:00+08:00\" (quoted in YAML)");
        return null;
    }

    private Reentry? Reentry(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.String && e.GetString() is "once") return Journeys.Reentry.Once;
        if (e.ValueKind == JsonValueKind.String && e.GetString() is "always") return new Reentry(ReentryKind.Always);
        if (e.ValueKind == JsonValueKind.String && ParseDuration(e.GetString()!) is { } every) return new Reentry(ReentryKind.Every, every);
        return Fail<Reentry>(path, "must be once, always, or a duration between entries such as 7d");
    }

    private ExitCriterion? Exit(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("event", out _))
            return Event(e, path, "event", []) is { } match ? new ExitCriterion(match, null, $"exit:{match.Name}") : null;
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("when", out var when))
        {
            Known(e, path, "when", "reason");
            var reason = e.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "exit:condition";
            return Condition(when, $"{path}.when") is { } c ? new ExitCriterion(null, c, reason) : null;
        }

        return Fail<ExitCriterion>(path, "must be {event: NAME} (ends the instance when it arrives) or {when: CONDITION} (checked before every step)");
    }

    private JourneyStep? Step(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Object) return Fail<JourneyStep>(path, "a step must be an object with an id and one of " + string.Join(", ", StepTypes));
        var types = StepTypes.Where(t => e.TryGetProperty(t, out _)).ToList();
        if (types.Count != 1)
        {
            var unknown = e.EnumerateObject().Select(p => p.Name).Where(k => k is not ("id" or "next" or "then" or "timeout" or "default")).ToList();
            return Fail<JourneyStep>(path, types.Count == 0
                ? $"unknown step{(unknown.Count > 0 ? $" '{unknown[0]}'" : "")}: a step needs exactly one of {string.Join(", ", StepTypes)}"
                : $"a step has exactly one type; this one has {string.Join(" and ", types)}");
        }

        var type = types[0];
        var allowed = type switch { "wait_for" => new[] { "id", type, "then", "timeout" }, "branch" => ["id", type, "default"], "split" or "exit" => ["id", type], _ => ["id", type, "next"] };
        Known(e, path, allowed);
        var id = Required(e, "id", path) is { } raw ? Id(raw, $"{path}.id") : null;
        var next = e.TryGetProperty("next", out var nx) ? Text(nx, $"{path}.next") : null;
        var body = e.GetProperty(type);
        var at = $"{path}.{type}";
        if (id is null) return null;
        return type switch
        {
            "wait" => Wait(id, next, body, at),
            "wait_for" => Event(body, at, "event", ["within"]) is { } match && Within(body, at) is { } within
                ? new WaitForStep(id, match, within, Optional(e, "then", path), Optional(e, "timeout", path)) : null,
            "branch" => Branch(id, body, e, path),
            "split" => Split(id, body, at),
            "send" => Send(id, next, body, at),
            "update" => Update(id, next, body, at),
            "coupon" => (body.ValueKind == JsonValueKind.String ? body.GetString() : body.ValueKind == JsonValueKind.Object ? Required(body, "campaign", at) : Fail<string>(at, "must be a campaign id or {campaign: ID}")) is { } c && Campaign(c, at)
                ? new CouponStep(id, next, c) : null,
            "webhook" => Webhook(id, next, body, at),
            "task" => Task(id, next, body, at),
            "goal" => Event(body, at, "event", ["within"]) is { } goal && Within(body, at) is { } bound ? new GoalStep(id, next, goal, bound) : null,
            _ => new ExitStep(id, body.ValueKind == JsonValueKind.Object && body.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String ? reason.GetString()! : "exit"),
        };
    }

    private WaitStep? Wait(string id, string? next, JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.String)
            return ParseDuration(e.GetString()!) is { } d ? new WaitStep(id, next, d, null, null) : Fail<WaitStep>(path, "must be a duration such as 30s, 30m, 1h, 3d, 2w");
        if (e.ValueKind != JsonValueKind.Object) return Fail<WaitStep>(path, "must be a duration (1h), {until_time: \"09:00\"}, {until_date: birthday} or {until: \"2026-11-11T00:00:00+08:00\"}");
        if (e.TryGetProperty("until_time", out var t))
        {
            Known(e, path, "until_time");
            return Time(t, $"{path}.until_time") is { } time ? new WaitStep(id, next, null, time, null) : null;
        }

        if (e.TryGetProperty("until_date", out _)) return Date(e, path, "until_date") is { } date ? new WaitStep(id, next, null, null, date) : null;
        if (e.TryGetProperty("until", out var u))
        {
            Known(e, path, "until");
            return Moment(u, $"{path}.until") is { } moment ? new WaitStep(id, next, null, null, null, moment) : null;
        }

        return Fail<WaitStep>(path, "a wait needs a bound: a duration (1h), until_time, until_date or until");
    }

    private BranchStep? Branch(string id, JsonElement body, JsonElement step, string path)
    {
        var at = $"{path}.branch";
        if (body.ValueKind != JsonValueKind.Array || body.GetArrayLength() == 0) return Fail<BranchStep>(at, "must be a non-empty list of {when: CONDITION, next: STEP}");
        List<BranchPath> paths = [];
        var i = 0;
        foreach (var item in body.EnumerateArray())
        {
            var p = $"{at}[{i++}]";
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("when", out var when) || !item.TryGetProperty("next", out var next))
            {
                Fail<object>(p, "must be {when: CONDITION, next: STEP}");
                continue;
            }

            Known(item, p, "when", "next");
            if (Condition(when, $"{p}.when") is { } c && Text(next, $"{p}.next") is { } target) paths.Add(new BranchPath(c, target));
        }

        if (!step.TryGetProperty("default", out var d)) return Fail<BranchStep>(path, "a branch needs a default: the step for customers no path matches");
        var fallback = Text(d, $"{path}.default");
        return fallback is null || paths.Count != body.GetArrayLength() ? null : new BranchStep(id, paths, fallback);
    }

    private SplitStep? Split(string id, JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() < 2) return Fail<SplitStep>(path, "must list at least two paths of {percent: N, next: STEP}");
        List<SplitPath> paths = [];
        var i = 0;
        foreach (var item in e.EnumerateArray())
        {
            var p = $"{path}[{i++}]";
            if (item.ValueKind != JsonValueKind.Object) { Fail<object>(p, "must be {percent: N, next: STEP}"); continue; }
            Known(item, p, "percent", "next", "name");
            if (!item.TryGetProperty("percent", out var pc) || pc.ValueKind != JsonValueKind.Number || !pc.TryGetInt32(out var percent) || percent is < 1 or > 100)
            {
                Fail<object>($"{p}.percent", "must be a whole number from 1 to 100");
                continue;
            }

            if (Required(item, "next", p) is not { } next) continue;
            var name = item.TryGetProperty("name", out var nm) && nm.ValueKind == JsonValueKind.String ? nm.GetString()! : next;
            paths.Add(new SplitPath(percent, next, name));
        }

        if (paths.Count != e.GetArrayLength()) return null;
        if (paths.Sum(p => p.Percent) != 100) return Fail<SplitStep>(path, $"percentages must add up to 100, not {paths.Sum(p => p.Percent)}");
        return new SplitStep(id, paths);
    }

    private SendStep? Send(string id, string? next, JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Object) return Fail<SendStep>(path, "must be {channel: email, template: ID}");
        Known(e, path, "channel", "template", "topic", "coupon");
        var channel = Required(e, "channel", path);
        var template = Required(e, "template", path);
        var topic = e.TryGetProperty("topic", out var t) ? Text(t, $"{path}.topic") : Topics.Marketing;
        var coupon = e.TryGetProperty("coupon", out var c) ? Text(c, $"{path}.coupon") : null;
        if (channel is not null && channel != ChannelNames.Best && !ChannelNames.IsChannel(channel))
            channel = Fail<string>($"{path}.channel", $"unknown channel '{channel}'; use one of {string.Join(", ", ChannelNames.All)} or best");
        else if (channel is not null && channel != ChannelNames.Best && !Channel(channel, $"{path}.channel")) channel = null;
        if (topic is not null && !Topics.IsTopic(topic)) topic = Fail<string>($"{path}.topic", "must be marketing or transactional");
        var ok = template is not null && Template(template, $"{path}.template");
        ok &= coupon is null || Campaign(coupon, $"{path}.coupon");
        return ok && channel is not null && topic is not null ? new SendStep(id, next, channel, template!, topic, coupon) : null;
    }

    private UpdateStep? Update(string id, string? next, JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Object) return Fail<UpdateStep>(path, "must be an object with add_tags, remove_tags or set_traits");
        Known(e, path, "add_tags", "remove_tags", "set_traits");
        List<KeyValuePair<string, string>> add = [];
        List<string> remove = [];
        string? traits = null;
        if (e.TryGetProperty("add_tags", out var a))
        {
            if (a.ValueKind == JsonValueKind.Array) add = [.. a.EnumerateArray().Select((v, i) => Text(v, $"{path}.add_tags[{i}]")).OfType<string>().Select(t => KeyValuePair.Create(t, "true"))];
            else if (a.ValueKind == JsonValueKind.Object) add = [.. a.EnumerateObject().Select(p => (p.Name, Value: EventTracker.Text(p.Value) ?? Fail<string>($"{path}.add_tags.{p.Name}", "must be a string, number or boolean"))).Where(p => p.Value is not null).Select(p => KeyValuePair.Create(p.Name, p.Value!))];
            else Fail<object>($"{path}.add_tags", "must be a list of tag names or an object of tag: value");
        }

        if (e.TryGetProperty("remove_tags", out var r))
        {
            if (r.ValueKind == JsonValueKind.Array) remove = [.. r.EnumerateArray().Select((v, i) => Text(v, $"{path}.remove_tags[{i}]")).OfType<string>()];
            else Fail<object>($"{path}.remove_tags", "must be a list of tag names");
        }

        if (e.TryGetProperty("set_traits", out var s))
        {
            if (s.ValueKind == JsonValueKind.Object && s.EnumerateObject().Any()) traits = s.GetRawText();
            else Fail<object>($"{path}.set_traits", "must be an object of trait: value");
        }

        if (add.Count + remove.Count == 0 && traits is null) return Fail<UpdateStep>(path, "changes nothing: give add_tags, remove_tags or set_traits");
        return new UpdateStep(id, next, add, remove, traits);
    }

    private WebhookStep? Webhook(string id, string? next, JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Object) return Fail<WebhookStep>(path, "must be {template: ID}");
        Known(e, path, "template");
        var template = Required(e, "template", path);
        var ok = template is not null && Template(template, $"{path}.template");
        ok &= Channel(ChannelNames.Webhook, path);
        return ok ? new WebhookStep(id, next, template!) : null;
    }

    private TaskStep? Task(string id, string? next, JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Object) return Fail<TaskStep>(path, "must be {title: TEXT, note: TEXT, queue: NAME}");
        Known(e, path, "title", "note", "queue");
        var title = Required(e, "title", path);
        var note = e.TryGetProperty("note", out var n) ? Text(n, $"{path}.note") : null;
        var queue = e.TryGetProperty("queue", out var q) ? Text(q, $"{path}.queue") : "service";
        return title is null || queue is null ? null : new TaskStep(id, next, title, note, queue);
    }

    private JourneyCondition? Condition(JsonElement e, string path, int depth = 0)
    {
        if (depth > 16) return Fail<JourneyCondition>(path, "nested more than 16 levels deep");
        if (e.ValueKind != JsonValueKind.Object) return Fail<JourneyCondition>(path, "must be a condition object, e.g. {tag: vip}");
        if (e.TryGetProperty("all", out var all) || e.TryGetProperty("any", out all))
        {
            var key = e.TryGetProperty("all", out _) ? "all" : "any";
            if (!Known(e, path, key)) return null;
            if (all.ValueKind != JsonValueKind.Array) return Fail<JourneyCondition>($"{path}.{key}", "must be a list of conditions");
            var parts = all.EnumerateArray().Select((c, i) => Condition(c, $"{path}.{key}[{i}]", depth + 1)).ToList();
            if (parts.Any(p => p is null)) return null;
            return key == "all" ? new AllOf(parts!) : new AnyOf(parts!);
        }

        if (e.TryGetProperty("not", out var not)) return Known(e, path, "not") && Condition(not, $"{path}.not", depth + 1) is { } inner ? new NoneOf(inner) : null;
        if (e.TryGetProperty("in_segment", out _))
        {
            Known(e, path, "in_segment");
            return Required(e, "in_segment", path) is { } segment && Segment(segment, $"{path}.in_segment") ? new InSegment(segment) : null;
        }

        if (e.TryGetProperty("since_entry", out _))
        {
            if (Event(e, path, "since_entry", ["count"]) is not { } match) return null;
            var count = new Comparison([(CompareOp.Gte, 1)]);
            if (e.TryGetProperty("count", out var c))
            {
                List<(CompareOp, double)> tests = [.. c.ValueKind == JsonValueKind.Object
                    ? c.EnumerateObject().Where(p => Comparison.Names.ContainsKey(p.Name) && p.Value.ValueKind == JsonValueKind.Number).Select(p => (Comparison.Names[p.Name], p.Value.GetDouble()))
                    : []];
                if (tests.Count == 0) return Fail<JourneyCondition>($"{path}.count", "must be a comparison such as {gte: 2}");
                count = new Comparison([.. tests]);
            }

            return new SinceEntry(match, count);
        }

        if (e.TryGetProperty("engaged", out _))
        {
            Known(e, path, "engaged", "step");
            var action = Required(e, "engaged", path);
            if (action is not null and not ("opened" or "clicked")) return Fail<JourneyCondition>($"{path}.engaged", "must be opened or clicked");
            var step = e.TryGetProperty("step", out var s) ? Text(s, $"{path}.step") : null;
            return action is null ? null : new Engaged(action, step);
        }

        return ConditionParser.Parse(e, path, _errors) is { } condition ? new CustomerCondition(condition) : null;
    }

    /// <summary>An event match: <c>{KEY: NAME, where: {property: value}}</c>, plus the <paramref name="extra"/> keys allowed.</summary>
    private EventMatch? Event(JsonElement e, string path, string key, string[] extra)
    {
        if (e.ValueKind != JsonValueKind.Object) return Fail<EventMatch>(path, $"must be an object such as {{{key}: Order Completed}}");
        Known(e, path, [key, "where", .. extra]);
        var name = Required(e, key, path);
        List<KeyValuePair<string, string>> where = [];
        if (e.TryGetProperty("where", out var w))
        {
            if (w.ValueKind != JsonValueKind.Object) return Fail<EventMatch>($"{path}.where", "must be an object of property: value");
            foreach (var p in w.EnumerateObject())
            {
                if (EventTracker.Text(p.Value) is { } v) where.Add(new(p.Name, v));
                else Fail<object>($"{path}.where.{p.Name}", "must be a string, number or boolean");
            }
        }

        return name is null ? null : new EventMatch(name, new EventTracker(name, where, 1));
    }

    private DateSource? Date(JsonElement e, string path, string key)
    {
        Known(e, path, key, "offset_days", "at", "yearly");
        var source = Required(e, key, path);
        var offset = 0;
        if (e.TryGetProperty("offset_days", out var o) && (o.ValueKind != JsonValueKind.Number || !o.TryGetInt32(out offset) || Math.Abs(offset) > 366))
            Fail<object>($"{path}.offset_days", "must be a whole number of days from -366 to 366");
        var at = e.TryGetProperty("at", out var a) ? Time(a, $"{path}.at") : new TimeOfDay(9, 0);
        var nextOrder = source == "next_order";
        var yearly = e.TryGetProperty("yearly", out var y) ? Bool(y, $"{path}.yearly") : !nextOrder;
        if (nextOrder && yearly) Fail<object>($"{path}.yearly", "next_order is not a yearly date");
        return source is null || at is null ? null : new DateSource(nextOrder ? null : source, nextOrder, offset, at.Value, yearly);
    }

    private TimeSpan? Within(JsonElement e, string path)
    {
        if (!e.TryGetProperty("within", out var w))
        {
            Fail<object>(path, "needs within: how long to wait at most, e.g. 48h");
            return null;
        }

        if (w.ValueKind == JsonValueKind.String && ParseDuration(w.GetString()!) is { } d) return d;
        Fail<object>($"{path}.within", "must be a duration such as 48h or 7d");
        return null;
    }

    private TimeOfDay? Time(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.String && TimePattern().Match(e.GetString()!) is { Success: true } m)
        {
            var (hour, minute) = (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
            if (hour < 24 && minute < 60) return new TimeOfDay(hour, minute);
        }

        Fail<object>(path, "must be a time of day such as \"09:00\" (quoted in YAML)");
        return null;
    }

    /// <summary>A duration such as 30s, 30m, 1h, 3d or 2w; null when not one (or not between a second and ten years).</summary>
    public static TimeSpan? ParseDuration(string text)
    {
        var m = DurationPattern().Match(text.Trim());
        if (!m.Success || !double.TryParse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n)) return null;
        var span = m.Groups[2].Value switch
        {
            "s" => TimeSpan.FromSeconds(n), "m" => TimeSpan.FromMinutes(n), "h" => TimeSpan.FromHours(n), "d" => TimeSpan.FromDays(n), _ => TimeSpan.FromDays(7 * n),
        };
        return span >= TimeSpan.FromSeconds(1) && span <= TimeSpan.FromDays(3650) ? span : null;
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$")]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"^(\d{1,2}):(\d{2})$")]
    private static partial Regex TimePattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")]
    private static partial Regex IdPattern();

    /// <summary>Every target exists, every step can be reached, and no loop runs without a wait.</summary>
    private void CheckGraph(List<JourneyStep> steps)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            if (!index.TryAdd(steps[i].Id, i)) Fail<object>($"$.steps[{i}].id", $"step id '{steps[i].Id}' is used twice; step ids must be unique");
        }

        for (var i = 0; i < steps.Count; i++)
        {
            foreach (var target in steps[i].Targets.Where(t => !index.ContainsKey(t)))
                Fail<object>($"$.steps[{i}]", $"goes to step '{target}', which does not exist; steps are: {string.Join(", ", index.Keys)}");
        }

        var reached = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<int>([0]);
        while (queue.Count > 0)
        {
            var step = steps[queue.Dequeue()];
            if (!reached.Add(step.Id)) continue;
            foreach (var next in Successors(steps, index, step)) queue.Enqueue(next);
        }

        for (var i = 0; i < steps.Count; i++)
            if (!reached.Contains(steps[i].Id)) Fail<object>($"$.steps[{i}]", $"step '{steps[i].Id}' is unreachable: no step leads to it");
        CheckLoops(steps, index);
    }

    private void CheckLoops(List<JourneyStep> steps, Dictionary<string, int> index)
    {
        // A loop made only of steps that do not wait would run forever within one moment.
        var state = new int[steps.Count];
        for (var i = 0; i < steps.Count; i++) Visit(i);

        void Visit(int i)
        {
            if (state[i] == 2 || Waits(steps[i])) return;
            if (state[i] == 1)
            {
                Fail<object>($"$.steps[{i}]", $"step '{steps[i].Id}' is on a loop without a wait; put a wait on the loop");
                state[i] = 2;
                return;
            }

            state[i] = 1;
            foreach (var next in Successors(steps, index, steps[i])) Visit(next);
            state[i] = 2;
        }
    }

    private static bool Waits(JourneyStep step) => step is WaitStep or WaitForStep or GoalStep;

    private static IEnumerable<int> Successors(List<JourneyStep> steps, Dictionary<string, int> index, JourneyStep step)
    {
        if (step is ExitStep) yield break;
        IEnumerable<string?> targets = step switch
        {
            WaitForStep w => new[] { w.Then ?? FollowingId(steps, index, step), w.Timeout ?? FollowingId(steps, index, step) },
            BranchStep or SplitStep => step.Targets.ToArray<string?>(),
            _ => new[] { step.Next ?? FollowingId(steps, index, step) },
        };
        foreach (var t in targets)
            if (t is not null && index.TryGetValue(t, out var i)) yield return i;
    }

    private static string? FollowingId(List<JourneyStep> steps, Dictionary<string, int> index, JourneyStep step) =>
        index.TryGetValue(step.Id, out var i) && i + 1 < steps.Count ? steps[i + 1].Id : null;

    private bool Template(string id, string path) => _references is null || _references.Templates.Contains(id) || Fail<object>(path, $"there is no message template '{id}'") is not null;

    private bool Campaign(string id, string path) => _references is null || _references.CouponCampaigns.Contains(id) || Fail<object>(path, $"there is no coupon campaign '{id}'") is not null;

    private bool Segment(string id, string path) => _references is null || _references.Segments.Contains(id) || Fail<object>(path, $"there is no segment '{id}'") is not null;

    private bool Channel(string channel, string path) =>
        _references is null || _references.Channels.Contains(channel) || Fail<object>(path, $"channel '{channel}' is not configured on this engine (configured: {string.Join(", ", _references.Channels)})") is not null;

    private string? Id(string id, string path) =>
        IdPattern().IsMatch(id) ? id : Fail<string>(path, "must be 1–64 letters, digits, '-', '_' or '.', starting with a letter or digit");

    private string? Required(JsonElement e, string key, string path) =>
        e.TryGetProperty(key, out var v) ? Text(v, $"{path}.{key}") : Fail<string>(path, $"needs {key}");

    private string? Optional(JsonElement e, string key, string path) => e.TryGetProperty(key, out var v) ? Text(v, $"{path}.{key}") : null;

    private string? Text(JsonElement v, string path) =>
        v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : Fail<string>(path, "must be a non-empty string");

    private bool Bool(JsonElement v, string path) =>
        v.ValueKind == JsonValueKind.True || (v.ValueKind != JsonValueKind.False && Fail<object>(path, "must be true or false") is not null);

    private bool Known(JsonElement e, string path, params string[] keys)
    {
        var ok = true;
        foreach (var p in e.EnumerateObject().Where(p => !keys.Contains(p.Name)))
        {
            Fail<object>($"{path}.{p.Name}", $"is not allowed here; expected {string.Join(", ", keys)}");
            ok = false;
        }

        return ok;
    }

    private T? Fail<T>(string path, string message) where T : class
    {
        _errors.Add(new DefinitionError(path, message));
        return null;
    }
}
