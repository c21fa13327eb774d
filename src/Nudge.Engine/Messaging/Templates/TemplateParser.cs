using System.Text.Json;
using System.Text.RegularExpressions;

namespace Nudge.Engine.Messaging.Templates;

/// <summary>Reads a template document (JSON), reporting every problem by its path, line and column.</summary>
public static partial class TemplateParser
{
    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
    private static partial Regex LocalePattern();

    /// <summary>Parses one template; on errors the template is null and the list says what is wrong.</summary>
    /// <param name="root">The document.</param>
    /// <param name="id">The id from the URL, when it gives one; the document's own id must then agree or be absent.</param>
    public static (MessageTemplate? Template, List<TemplateError> Errors) Parse(JsonElement root, string? id = null)
    {
        List<TemplateError> errors = [];
        if (root.ValueKind != JsonValueKind.Object)
            return (null, [new TemplateError("", 0, 0, "a template must be a JSON object with id, kind and locales")]);

        var docId = Text(root, "id", errors);
        if (id is not null && docId is not null && docId != id) errors.Add(new TemplateError("id", 0, 0, $"is '{docId}' but the address names '{id}'"));
        docId ??= id;
        if (docId is null) errors.Add(new TemplateError("id", 0, 0, "is required"));
        else if (!IdPattern().IsMatch(docId)) errors.Add(new TemplateError("id", 0, 0, "must be 1–64 letters, digits, '_' or '-'"));

        var kind = Text(root, "kind", errors) ?? "message";
        if (!MessageTemplate.Kinds.Contains(kind)) errors.Add(new TemplateError("kind", 0, 0, $"must be one of {string.Join(", ", MessageTemplate.Kinds)}"));
        var layout = Text(root, "layout", errors);
        if (layout is not null && kind != "message") errors.Add(new TemplateError("layout", 0, 0, "only a message can have a layout"));

        Dictionary<string, IReadOnlyDictionary<string, string>> locales = new(StringComparer.OrdinalIgnoreCase);
        if (!root.TryGetProperty("locales", out var ls) || ls.ValueKind != JsonValueKind.Object)
            errors.Add(new TemplateError("locales", 0, 0, "is required: an object of locale → parts, e.g. {\"en\": {\"subject\": \"...\", \"html\": \"...\"}}"));
        else
        {
            foreach (var locale in ls.EnumerateObject())
            {
                var path = $"locales.{locale.Name}";
                if (!LocalePattern().IsMatch(locale.Name)) errors.Add(new TemplateError(path, 0, 0, "is not a locale such as en or zh-CN"));
                if (locale.Value.ValueKind != JsonValueKind.Object) { errors.Add(new TemplateError(path, 0, 0, "must be an object of part → Liquid text")); continue; }
                Dictionary<string, string> parts = new(StringComparer.Ordinal);
                foreach (var part in locale.Value.EnumerateObject())
                {
                    var partPath = $"{path}.{part.Name}";
                    if (!MessageTemplate.Parts.Contains(part.Name)) errors.Add(new TemplateError(partPath, 0, 0, $"is not a part; use {string.Join(", ", MessageTemplate.Parts)}"));
                    else if (part.Value.ValueKind != JsonValueKind.String) errors.Add(new TemplateError(partPath, 0, 0, "must be a string"));
                    else
                    {
                        parts[part.Name] = part.Value.GetString()!;
                        errors.AddRange(LiquidCheck.Check(parts[part.Name], partPath).Errors);
                    }
                }

                if (kind == "partial" && !parts.ContainsKey("body")) errors.Add(new TemplateError(path, 0, 0, "a partial needs a body"));
                if (kind == "layout" && (!parts.TryGetValue("html", out var html) || !html.Contains("content", StringComparison.Ordinal)))
                    errors.Add(new TemplateError(path, 0, 0, "a layout needs html that places the message with {{ content }}"));
                if (kind == "message" && parts.Count == 0) errors.Add(new TemplateError(path, 0, 0, "has no parts"));
                locales[locale.Name] = parts;
            }

            if (locales.Count == 0 && ls.ValueKind == JsonValueKind.Object) errors.Add(new TemplateError("locales", 0, 0, "needs at least one locale"));
        }

        return errors.Count > 0 ? (null, errors) : (new MessageTemplate(docId!, kind, layout, locales), errors);
    }

    private static string? Text(JsonElement root, string name, List<TemplateError> errors)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        errors.Add(new TemplateError(name, 0, 0, "must be a string"));
        return null;
    }
}
