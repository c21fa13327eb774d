namespace Nudge.Engine.Messaging.Templates;

/// <summary>
/// Checks Liquid source before it is used, placing every problem by line and column: tags left open
/// or closed twice, unknown tags and filters, includes that are not a quoted template id. The Liquid
/// engine itself reports some errors without a place; this pass finds them where a person would look.
/// </summary>
public static class LiquidCheck
{
    private static readonly Dictionary<string, string> Blocks = new(StringComparer.Ordinal)
    {
        ["if"] = "endif", ["unless"] = "endunless", ["case"] = "endcase", ["for"] = "endfor",
        ["capture"] = "endcapture", ["tablerow"] = "endtablerow", ["ifchanged"] = "endifchanged",
    };

    private static readonly HashSet<string> Inner = ["elsif", "else", "when", "break", "continue"];

    private static readonly HashSet<string> Simple = ["assign", "cycle", "increment", "decrement", "include"];

    /// <summary>Filters a template may use: Liquid's standard ones and Nudge's own.</summary>
    public static readonly IReadOnlySet<string> Filters = new HashSet<string>(StringComparer.Ordinal)
    {
        "size", "downcase", "upcase", "capitalize", "escape", "escape_once", "h", "url_encode", "url_decode", "truncate",
        "truncatewords", "split", "strip_html", "strip_newlines", "join", "sort", "sort_natural", "map", "replace",
        "replace_first", "remove", "remove_first", "append", "prepend", "newline_to_br", "date", "first", "last", "plus",
        "minus", "times", "divided_by", "modulo", "default", "round", "ceil", "floor", "abs", "at_least", "at_most",
        "lstrip", "rstrip", "strip", "uniq", "compact", "reverse", "concat", "slice", "where", "sum",
        "money", "local_date",
    };

    /// <summary>Problems in <paramref name="source"/>, and the template ids it includes.</summary>
    /// <param name="source">Liquid source.</param>
    /// <param name="path">Where the source is, for the error messages.</param>
    public static (List<TemplateError> Errors, List<string> Includes) Check(string source, string path)
    {
        List<TemplateError> errors = [];
        List<string> includes = [];
        Stack<(string Tag, int Line, int Column)> open = new();
        var i = 0;
        while (i < source.Length)
        {
            var start = source.IndexOf('{', i);
            if (start < 0 || start == source.Length - 1) break;
            var kind = source[start + 1];
            if (kind is not ('{' or '%')) { i = start + 1; continue; }
            var (line, column) = Position(source, start);
            var close = source.IndexOf(kind == '{' ? "}}" : "%}", start + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                errors.Add(new TemplateError(path, line, column, kind == '{' ? "'{{' is never closed with '}}'" : "'{%' is never closed with '%}'"));
                break;
            }

            var markup = source[(start + 2)..close].Trim().Trim('-').Trim();
            i = close + 2;
            if (kind == '{')
            {
                CheckFilters(markup, path, line, column, errors);
                continue;
            }

            var name = markup.Split([' ', '\t', '\n', '\r'], 2)[0];
            var rest = markup.Length > name.Length ? markup[name.Length..].Trim() : "";
            if (name is "raw" or "comment")
            {
                // Everything up to the end tag is text, not Liquid.
                var end = FindEnd(source, i, "end" + name);
                if (end < 0) { errors.Add(new TemplateError(path, line, column, $"'{name}' is never closed with '{{% end{name} %}}'")); break; }
                i = end;
                continue;
            }

            if (Blocks.ContainsKey(name)) open.Push((name, line, column));
            else if (name.StartsWith("end", StringComparison.Ordinal) && Blocks.ContainsValue(name))
            {
                if (open.Count == 0) errors.Add(new TemplateError(path, line, column, $"'{name}' closes nothing"));
                else if (Blocks[open.Peek().Tag] != name)
                    errors.Add(new TemplateError(path, line, column, $"'{name}' found where '{Blocks[open.Peek().Tag]}' was expected (for the '{open.Peek().Tag}' on line {open.Peek().Line})"));
                else open.Pop();
            }
            else if (Inner.Contains(name))
            {
                if (open.Count == 0) errors.Add(new TemplateError(path, line, column, $"'{name}' is outside any block"));
            }
            else if (!Simple.Contains(name))
                errors.Add(new TemplateError(path, line, column, $"unknown tag '{name}'"));

            if (name == "include")
            {
                var target = rest.Split(' ', 2)[0];
                if (target.Length < 3 || target[0] is not ('\'' or '"') || target[^1] != target[0])
                    errors.Add(new TemplateError(path, line, column, "include needs a quoted template id, e.g. {% include 'footer' %}"));
                else includes.Add(target[1..^1]);
            }
            else if (name == "assign" && rest.IndexOf('=', StringComparison.Ordinal) is var eq and > 0)
                CheckFilters(rest[(eq + 1)..], path, line, column, errors);
        }

        foreach (var (tag, line, column) in open)
            errors.Add(new TemplateError(path, line, column, $"'{tag}' is never closed with '{Blocks[tag]}'"));
        return (errors, includes);
    }

    private static void CheckFilters(string markup, string path, int line, int column, List<TemplateError> errors)
    {
        var parts = SplitOutsideQuotes(markup, '|');
        foreach (var filter in parts.Skip(1))
        {
            var name = filter.Split(':', 2)[0].Trim();
            if (!Filters.Contains(name)) errors.Add(new TemplateError(path, line, column, $"unknown filter '{name}'"));
        }
    }

    private static List<string> SplitOutsideQuotes(string text, char separator)
    {
        List<string> parts = [];
        var quote = '\0';
        var from = 0;
        for (var k = 0; k < text.Length; k++)
        {
            var c = text[k];
            if (quote != '\0') { if (c == quote) quote = '\0'; }
            else if (c is '\'' or '"') quote = c;
            else if (c == separator) { parts.Add(text[from..k]); from = k + 1; }
        }

        parts.Add(text[from..]);
        return parts;
    }

    private static int FindEnd(string source, int from, string endTag)
    {
        var k = from;
        while ((k = source.IndexOf("{%", k, StringComparison.Ordinal)) >= 0)
        {
            var close = source.IndexOf("%}", k + 2, StringComparison.Ordinal);
            if (close < 0) return -1;
            if (source[(k + 2)..close].Trim().Trim('-').Trim() == endTag) return close + 2;
            k = close + 2;
        }

        return -1;
    }

    /// <summary>The 1-based line and column of an offset.</summary>
    public static (int Line, int Column) Position(string source, int offset)
    {
        int line = 1, lineStart = 0;
        for (var k = 0; k < offset && k < source.Length; k++)
            if (source[k] == '\n') { line++; lineStart = k + 1; }
        return (line, offset - lineStart + 1);
    }
}
