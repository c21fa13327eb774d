using System.Text.Json;
using System.Text.RegularExpressions;
using Nudge.Engine.Rfm;
using Nudge.Engine.Segments;

namespace Nudge.Engine.Definitions;

/// <summary>
/// Reads tag rules, lifecycle stages, segments and RFM bands from JSON, reporting every problem with
/// the path of the part at fault. Null results mean <c>errors</c> says why.
/// </summary>
public static partial class DefinitionParser
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex IdPattern();

    /// <summary>Whether a string can be a segment id, tag or stage name: letters, digits, - and _, up to 64.</summary>
    public static bool IsValidId(string id) => IdPattern().IsMatch(id);

    /// <summary>Parses a segment: <c>{"id", "name", "description"?, "when"}</c>.</summary>
    public static SegmentDefinition? Segment(JsonElement e, List<DefinitionError> errors, string path = "$")
    {
        if (!Object(e, path, errors, "id", "name", "description", "when")) return null;
        var id = Id(e, "id", path, errors);
        var name = OptionalString(e, "name", path, errors) ?? id;
        var description = OptionalString(e, "description", path, errors);
        var when = Required(e, "when", path, errors) is { } w ? ConditionParser.Parse(w, $"{path}.when", errors) : null;
        return id is null || when is null || name is null ? null : new SegmentDefinition(id, name, description, when);
    }

    /// <summary>Parses a tag rule: <c>{"name", "kind", "description"?, "when"?, "value"?}</c>; at least one of when and value.</summary>
    public static TagRule? Tag(JsonElement e, List<DefinitionError> errors, string path = "$")
    {
        if (!Object(e, path, errors, "name", "kind", "description", "when", "value")) return null;
        var before = errors.Count;
        var name = Id(e, "name", path, errors);
        var kind = OptionalString(e, "kind", path, errors) ?? "custom";
        if (!TagKinds.All.Contains(kind) || kind == "custom")
            errors.Add(new DefinitionError($"{path}.kind", "must be basic, behaviour, transaction or preference (custom tags are set through the API, not by rules)"));
        var description = OptionalString(e, "description", path, errors);
        var when = e.TryGetProperty("when", out var w) ? ConditionParser.Parse(w, $"{path}.when", errors) : null;
        var value = e.TryGetProperty("value", out var v) ? ValueSource(v, $"{path}.value", errors) : null;
        if (when is null && value is null && errors.Count == before)
            errors.Add(new DefinitionError(path, "a tag rule needs when (a condition), value (where its value comes from), or both"));
        return errors.Count == before ? new TagRule(name!, kind, description, when, value) : null;
    }

    /// <summary>Parses the ordered list of lifecycle stages: <c>[{"name", "description"?, "when"}, ...]</c>.</summary>
    public static IReadOnlyList<StageRule>? Stages(JsonElement e, List<DefinitionError> errors, string path = "$")
    {
        if (e.ValueKind != JsonValueKind.Array) { errors.Add(new DefinitionError(path, "must be an array of stages, highest priority first")); return null; }
        var before = errors.Count;
        List<StageRule> stages = [];
        var i = 0;
        foreach (var item in e.EnumerateArray())
        {
            var at = $"{path}[{i++}]";
            if (!Object(item, at, errors, "name", "description", "when")) continue;
            var name = Id(item, "name", at, errors);
            var description = OptionalString(item, "description", at, errors);
            var when = Required(item, "when", at, errors) is { } w ? ConditionParser.Parse(w, $"{at}.when", errors) : null;
            if (name is not null && stages.Any(s => s.Name == name)) errors.Add(new DefinitionError($"{at}.name", $"stage '{name}' is defined twice"));
            if (name is not null && when is not null) stages.Add(new StageRule(name, description, when));
        }

        return errors.Count == before ? stages : null;
    }

    /// <summary>Parses RFM bands: <c>{"recency_days": [7,30,90], "frequency_orders": [3,10], "monetary": [300,1000]}</c>.</summary>
    public static RfmSettings? Rfm(JsonElement e, List<DefinitionError> errors, string path = "$")
    {
        if (!Object(e, path, errors, "recency_days", "frequency_orders", "monetary")) return null;
        var before = errors.Count;
        var recency = Numbers(e, "recency_days", path, errors, 1);
        var frequency = Numbers(e, "frequency_orders", path, errors, 2);
        var monetary = Numbers(e, "monetary", path, errors, 2);
        if (errors.Count > before) return null;
        if (frequency!.Any(f => f != Math.Floor(f))) errors.Add(new DefinitionError($"{path}.frequency_orders", "order counts must be whole numbers"));
        return errors.Count > before ? null : new RfmSettings(recency!, [.. frequency!.Select(f => (int)f)], [.. monetary!.Select(m => (decimal)m)]);
    }

    private static TagValueSource? ValueSource(JsonElement e, string path, List<DefinitionError> errors)
    {
        if (!Object(e, path, errors, "trait", "stat", "bands", "labels")) return null;
        if (e.TryGetProperty("trait", out var trait))
        {
            List<string> paths = trait.ValueKind == JsonValueKind.String ? [trait.GetString()!]
                : trait.ValueKind == JsonValueKind.Array ? [.. trait.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!)] : [];
            if (paths.Count == 0 || paths.Any(string.IsNullOrWhiteSpace) || (trait.ValueKind == JsonValueKind.Array && paths.Count != trait.GetArrayLength()))
            {
                errors.Add(new DefinitionError($"{path}.trait", "must be a trait name or an array of trait names (dotted paths such as address.city allowed)"));
                return null;
            }

            return new TagValueSource(paths, null, [], []);
        }

        if (Required(e, "stat", path, errors) is not { } stat) return null;
        if (stat.ValueKind != JsonValueKind.String || !StatFields.All.TryGetValue(stat.GetString()!, out var field))
        {
            errors.Add(new DefinitionError($"{path}.stat", $"unknown stat; known: {string.Join(", ", StatFields.All.Keys)}"));
            return null;
        }

        if (!e.TryGetProperty("bands", out _)) return new TagValueSource([], field, [], []);
        var bands = Numbers(e, "bands", path, errors, 1);
        var labels = e.TryGetProperty("labels", out var l) && l.ValueKind == JsonValueKind.Array && l.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String)
            ? l.EnumerateArray().Select(x => x.GetString()!).ToList() : null;
        if (bands is null) return null;
        if (field.IsText) { errors.Add(new DefinitionError($"{path}.bands", $"'{field.Name}' is text; bands need a numeric stat")); return null; }
        if (labels is null || labels.Count != bands.Count + 1)
        {
            errors.Add(new DefinitionError($"{path}.labels", $"needs {bands.Count + 1} labels: one per band, one more than the {bands.Count} edges"));
            return null;
        }

        return new TagValueSource([], field, bands, labels);
    }

    private static List<double>? Numbers(JsonElement e, string key, string path, List<DefinitionError> errors, int minCount)
    {
        if (Required(e, key, path, errors) is not { } v) return null;
        var values = v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number)
            ? v.EnumerateArray().Select(x => x.GetDouble()).ToList() : null;
        if (values is null || values.Count < minCount || values.Zip(values.Skip(1)).Any(p => p.First >= p.Second) || values.Any(x => x < 0))
        {
            errors.Add(new DefinitionError($"{path}.{key}", $"must be an ascending array of at least {minCount} non-negative numbers"));
            return null;
        }

        return values;
    }

    private static bool Object(JsonElement e, string path, List<DefinitionError> errors, params string[] keys)
    {
        if (e.ValueKind != JsonValueKind.Object) { errors.Add(new DefinitionError(path, "must be an object")); return false; }
        var ok = true;
        foreach (var p in e.EnumerateObject().Where(p => !keys.Contains(p.Name)))
        {
            errors.Add(new DefinitionError($"{path}.{p.Name}", $"is not allowed here; expected {string.Join(", ", keys)}"));
            ok = false;
        }

        return ok;
    }

    private static JsonElement? Required(JsonElement e, string key, string path, List<DefinitionError> errors)
    {
        if (e.TryGetProperty(key, out var v)) return v;
        errors.Add(new DefinitionError($"{path}.{key}", "is required"));
        return null;
    }

    private static string? Id(JsonElement e, string key, string path, List<DefinitionError> errors)
    {
        if (Required(e, key, path, errors) is not { } v) return null;
        if (v.ValueKind == JsonValueKind.String && IsValidId(v.GetString()!)) return v.GetString();
        errors.Add(new DefinitionError($"{path}.{key}", "must be 1-64 letters, digits, - or _, starting with a letter or digit"));
        return null;
    }

    private static string? OptionalString(JsonElement e, string key, string path, List<DefinitionError> errors)
    {
        if (!e.TryGetProperty(key, out var v)) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        errors.Add(new DefinitionError($"{path}.{key}", "must be a string"));
        return null;
    }
}
