using System.Text.Json;

namespace Nudge.Engine.Segments;

/// <summary>What is wrong with one part of a definition.</summary>
/// <param name="Path">Where: a JSON path such as <c>$.when.all[1].count.gte</c>.</param>
/// <param name="Message">What is wrong, and what would be right.</param>
public sealed record DefinitionError(string Path, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>
/// Reads conditions from JSON, collecting every problem with the path of the part at fault instead
/// of stopping at the first. The grammar is documented in docs/segments.md.
/// </summary>
public sealed class ConditionParser
{
    private const int MaxDepth = 16;

    /// <summary>Largest event count a condition may compare with (counters keep one more timestamp than this).</summary>
    public const int MaxEventCount = 1000;

    private readonly List<DefinitionError> _errors;

    private ConditionParser(List<DefinitionError> errors) => _errors = errors;

    /// <summary>Parses a condition; null when anything is wrong (each problem is added to <paramref name="errors"/>).</summary>
    public static Condition? Parse(JsonElement json, string path, List<DefinitionError> errors)
    {
        var before = errors.Count;
        var condition = new ConditionParser(errors).Read(json, path, 0);
        return errors.Count == before ? condition : null;
    }

    private Condition? Read(JsonElement e, string path, int depth)
    {
        if (depth > MaxDepth) return Fail(path, $"nested more than {MaxDepth} levels deep");
        if (e.ValueKind != JsonValueKind.Object) return Fail(path, "must be an object such as {\"stat\": \"orders\", \"gte\": 1}");
        if (e.TryGetProperty("all", out var all)) return Known(e, path, "all") ? List(all, $"{path}.all", depth, p => new AllCondition(p)) : null;
        if (e.TryGetProperty("any", out var any)) return Known(e, path, "any") ? List(any, $"{path}.any", depth, p => new AnyCondition(p)) : null;
        if (e.TryGetProperty("not", out var not)) return Known(e, path, "not") && Read(not, $"{path}.not", depth + 1) is { } inner ? new NotCondition(inner) : null;
        if (e.TryGetProperty("stat", out _)) return Stat(e, path);
        if (e.TryGetProperty("trait", out _)) return Trait(e, path);
        if (e.TryGetProperty("tag", out _)) return Tag(e, path);
        if (e.TryGetProperty("stage", out _)) return Names(e, path, "stage", n => new StageCondition(n));
        if (e.TryGetProperty("rfm_segment", out _)) return Names(e, path, "rfm_segment", n => new RfmSegmentCondition(n));
        if (e.TryGetProperty("rfm_score", out _) || e.TryGetProperty("rfm_band", out _)) return Rfm(e, path);
        if (e.TryGetProperty("event", out _)) return Event(e, path);
        return Fail(path, "needs one of all, any, not, stat, trait, tag, stage, rfm_segment, rfm_score, rfm_band, event");
    }

    private Condition? List(JsonElement list, string path, int depth, Func<IReadOnlyList<Condition>, Condition> make)
    {
        if (list.ValueKind != JsonValueKind.Array) return Fail(path, "must be an array of conditions");
        List<Condition> parts = [];
        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (Read(item, $"{path}[{i}]", depth + 1) is { } part) parts.Add(part);
            i++;
        }

        return parts.Count == i ? make(parts) : null;
    }

    private Condition? Stat(JsonElement e, string path)
    {
        if (!Known(e, path, "stat", "within_days", "eq", "ne", "gt", "gte", "lt", "lte", "in")) return null;
        var name = String(e, "stat", path);
        if (name is null) return null;
        if (!StatFields.All.TryGetValue(name, out var field))
            return Fail($"{path}.stat", $"unknown stat '{name}'; known: {string.Join(", ", StatFields.All.Keys)}");
        if (field.IsText) return Text(e, path, TextSource.Stat, name);

        TimeSpan? window = null;
        if (e.TryGetProperty("within_days", out var days))
        {
            if (field.Clock != StatClock.Windowed) return Fail($"{path}.within_days", $"only orders and revenue can be counted within days, not '{name}'");
            window = Days(days, $"{path}.within_days");
            if (window is null) return null;
        }

        var compare = Compare(e, path, required: true);
        if (compare is null) return null;
        if (field.Clock is StatClock.DaysSince or StatClock.HoursSince && compare.Tests.Any(t => t.Op is CompareOp.Eq or CompareOp.Ne))
            return Fail(path, $"'{name}' grows continuously; compare it with gt, gte, lt or lte");
        return new StatCondition(field, window, compare);
    }

    private Condition? Trait(JsonElement e, string path)
    {
        if (!Known(e, path, "trait", "eq", "ne", "in", "exists", "gt", "gte", "lt", "lte")) return null;
        var name = String(e, "trait", path);
        if (name is null) return null;
        if (e.TryGetProperty("gt", out _) || e.TryGetProperty("gte", out _) || e.TryGetProperty("lt", out _) || e.TryGetProperty("lte", out _))
            return Compare(e, path, required: true) is { } compare ? new TraitNumberCondition(name, compare) : null;
        return Text(e, path, TextSource.Trait, name);
    }

    private Condition? Text(JsonElement e, string path, TextSource source, string name)
    {
        if (e.TryGetProperty("exists", out var exists))
        {
            if (exists.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) return Fail($"{path}.exists", "must be true or false");
            return new TextCondition(source, name, [], exists.ValueKind == JsonValueKind.False);
        }

        if (e.TryGetProperty("eq", out var eq)) return Scalar(eq, $"{path}.eq") is { } v ? new TextCondition(source, name, [v], false) : null;
        if (e.TryGetProperty("ne", out var ne)) return Scalar(ne, $"{path}.ne") is { } v ? new TextCondition(source, name, [v], true) : null;
        if (e.TryGetProperty("in", out var @in)) return Strings(@in, $"{path}.in") is { } values ? new TextCondition(source, name, values, false) : null;
        return Fail(path, $"needs eq, ne, in or exists for '{name}'");
    }

    private TagCondition? Tag(JsonElement e, string path)
    {
        if (!Known(e, path, "tag", "eq", "in")) return null;
        var name = String(e, "tag", path);
        if (name is null) return null;
        if (e.TryGetProperty("eq", out var eq)) return Scalar(eq, $"{path}.eq") is { } v ? new TagCondition(name, [v]) : null;
        if (e.TryGetProperty("in", out var @in)) return Strings(@in, $"{path}.in") is { } values ? new TagCondition(name, values) : null;
        return new TagCondition(name, []);
    }

    private Condition? Names(JsonElement e, string path, string key, Func<IReadOnlyList<string>, Condition> make)
    {
        if (!Known(e, path, key)) return null;
        var value = e.GetProperty(key);
        var names = value.ValueKind == JsonValueKind.String ? [value.GetString()!] : Strings(value, $"{path}.{key}");
        if (names is null) return null;
        if (key == "rfm_segment")
        {
            foreach (var n in names.Where(n => !Nudge.Engine.Rfm.RfmSegments.Names.Contains(n)))
                return Fail($"{path}.{key}", $"unknown RFM segment '{n}'; known: {string.Join(", ", Nudge.Engine.Rfm.RfmSegments.Names)}");
        }

        return make(names);
    }

    private Condition? Rfm(JsonElement e, string path)
    {
        var isScore = e.TryGetProperty("rfm_score", out _);
        var key = isScore ? "rfm_score" : "rfm_band";
        if (!Known(e, path, key, "eq", "ne", "gt", "gte", "lt", "lte", "in")) return null;
        var dimension = String(e, key, path);
        if (dimension is null) return null;
        if (dimension is not ("r" or "f" or "m")) return Fail($"{path}.{key}", "must be r, f or m");
        if (isScore) return Compare(e, path, required: true) is { } compare ? new RfmCondition(dimension[0], compare, []) : null;
        var bands = e.TryGetProperty("eq", out var eq) && Scalar(eq, $"{path}.eq") is { } one ? [one]
            : e.TryGetProperty("in", out var @in) ? Strings(@in, $"{path}.in") : null;
        return bands is null ? Fail(path, "rfm_band needs eq or in, e.g. {\"rfm_band\": \"m\", \"eq\": \"high\"}") : new RfmCondition(dimension[0], null, bands);
    }

    private Condition? Event(JsonElement e, string path)
    {
        if (!Known(e, path, "event", "where", "within_days", "count")) return null;
        var name = String(e, "event", path);
        if (name is null) return null;
        if (!e.TryGetProperty("within_days", out var days)) return Fail(path, $"event '{name}' needs within_days: how many days back to count");
        var window = Days(days, $"{path}.within_days");
        List<KeyValuePair<string, string>> where = [];
        if (e.TryGetProperty("where", out var w))
        {
            if (w.ValueKind != JsonValueKind.Object) return Fail($"{path}.where", "must be an object of property: value");
            foreach (var p in w.EnumerateObject())
                if (Scalar(p.Value, $"{path}.where.{p.Name}") is { } v) where.Add(new(p.Name, v));
        }

        var count = e.TryGetProperty("count", out var c)
            ? c.ValueKind == JsonValueKind.Object ? Compare(c, $"{path}.count", required: true) : Fail<Comparison>($"{path}.count", "must be an object such as {\"gte\": 3}")
            : new Comparison([(CompareOp.Gte, 1)]);
        if (window is null || count is null) return null;
        if (count.MaxOperand > MaxEventCount || count.Tests.Any(t => t.Operand < 0 || t.Operand != Math.Floor(t.Operand)))
            return Fail($"{path}.count", $"counts are whole numbers from 0 to {MaxEventCount}");
        return new EventCondition(new EventTracker(name, where, (int)count.MaxOperand + 1), window.Value, count);
    }

    private Comparison? Compare(JsonElement e, string path, bool required)
    {
        List<(CompareOp, double)> tests = [];
        foreach (var p in e.EnumerateObject())
        {
            if (!Comparison.Names.TryGetValue(p.Name, out var op)) continue;
            if (p.Value.ValueKind != JsonValueKind.Number) { Fail($"{path}.{p.Name}", "must be a number"); return null; }
            tests.Add((op, p.Value.GetDouble()));
        }

        if (tests.Count == 0 && required) return Fail<Comparison>(path, "needs a comparison: eq, ne, gt, gte, lt or lte with a number");
        return new Comparison([.. tests]);
    }

    private TimeSpan? Days(JsonElement days, string path)
    {
        if (days.ValueKind != JsonValueKind.Number || !days.TryGetDouble(out var d) || d <= 0 || d > 3650)
        {
            Fail(path, "must be a number of days between 0 and 3650 (fractions allowed: 0.5 is 12 hours)");
            return null;
        }

        return TimeSpan.FromDays(d);
    }

    private string? String(JsonElement e, string key, string path)
    {
        var v = e.GetProperty(key);
        if (v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s) return s;
        Fail($"{path}.{key}", "must be a non-empty string");
        return null;
    }

    private string? Scalar(JsonElement v, string path) =>
        EventTracker.Text(v) ?? Fail<string>(path, "must be a string, number or boolean");

    private List<string>? Strings(JsonElement v, string path)
    {
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() == 0) return Fail<List<string>>(path, "must be a non-empty array");
        List<string> values = [];
        var i = 0;
        foreach (var item in v.EnumerateArray())
        {
            if (Scalar(item, $"{path}[{i++}]") is { } s) values.Add(s);
            else return null;
        }

        return values;
    }

    private bool Known(JsonElement e, string path, params string[] keys)
    {
        var ok = true;
        foreach (var p in e.EnumerateObject().Where(p => !keys.Contains(p.Name)))
        {
            Fail($"{path}.{p.Name}", $"is not allowed here; expected {string.Join(", ", keys)}");
            ok = false;
        }

        return ok;
    }

    private Condition? Fail(string path, string message) => Fail<Condition>(path, message);

    private T? Fail<T>(string path, string message) where T : class
    {
        _errors.Add(new DefinitionError(path, message));
        return null;
    }
}
