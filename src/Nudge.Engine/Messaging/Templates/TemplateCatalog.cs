using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using DotLiquid;
using DotLiquid.Exceptions;
using DotLiquid.FileSystems;

namespace Nudge.Engine.Messaging.Templates;

/// <summary>What to render: a template for a channel, a customer's locale and zone, and the values it may use.</summary>
/// <param name="TemplateId">The message template.</param>
/// <param name="Channel">The channel it goes out on: decides which parts are rendered.</param>
/// <param name="Locale">The customer's locale (<c>en-US</c>, <c>zh-CN</c>...), or null for the default.</param>
/// <param name="Zone">The customer's time zone, for <c>local_date</c>.</param>
/// <param name="Currency">The currency <c>money</c> formats in unless told another.</param>
/// <param name="Now">The engine's clock.</param>
/// <param name="Model">Top-level variables: <c>customer</c>, the trigger's objects, <c>coupon</c>, <c>recommendations</c>... as strings, numbers, booleans, dictionaries and lists.</param>
public sealed record RenderRequest(string TemplateId, string Channel, string? Locale, TimeZoneInfo Zone, string Currency, DateTimeOffset Now, IReadOnlyDictionary<string, object?> Model);

/// <summary>
/// An immutable set of templates, checked as a whole (layouts and includes exist, includes do not
/// loop), with their parsed Liquid cached. Rendering is safe by construction: templates see only the
/// dictionaries and lists they are given (no .NET members), loops are capped and includes cannot recurse.
/// </summary>
public sealed partial class TemplateCatalog : ITemplateFileSystem
{
    /// <summary>Loop iterations one render may run; beyond it the render fails instead of running away.</summary>
    public const int MaxIterations = 10_000;

    private const string LocaleKey = "nudge.locale";
    private readonly IReadOnlyDictionary<string, MessageTemplate> _templates;
    private readonly ConcurrentDictionary<(string Id, string Locale, string Part), Template> _parsed = new();
    private readonly ConcurrentDictionary<(string Id, string Locale), (string Before, string After)?> _frames = new();

    // Registered once for every template: adding filters to each render's context reflects over the type each time.
    static TemplateCatalog() => Template.RegisterFilter(typeof(TemplateFilters));

    /// <summary>A catalog of <paramref name="templates"/>; call <see cref="Check"/> first to know they hold together.</summary>
    public TemplateCatalog(IEnumerable<MessageTemplate> templates, string defaultLocale = "zh-CN")
    {
        _templates = templates.ToDictionary(t => t.Id, StringComparer.Ordinal);
        DefaultLocale = defaultLocale;
    }

    /// <summary>The locale used when a customer's has no variant and no language match.</summary>
    public string DefaultLocale { get; }

    /// <summary>Every template, by id.</summary>
    public IReadOnlyDictionary<string, MessageTemplate> Templates => _templates;

    /// <summary>This catalog with <paramref name="template"/> added or replaced.</summary>
    public TemplateCatalog With(MessageTemplate template) =>
        new(_templates.Values.Where(t => t.Id != template.Id).Append(template), DefaultLocale);

    /// <summary>This catalog without the template <paramref name="id"/>.</summary>
    public TemplateCatalog Without(string id) => new(_templates.Values.Where(t => t.Id != id), DefaultLocale);

    /// <summary>Problems across templates: missing or wrong-kind layouts and includes, include loops.</summary>
    public List<TemplateError> Check()
    {
        List<TemplateError> errors = [];
        foreach (var t in _templates.Values.OrderBy(t => t.Id, StringComparer.Ordinal))
        {
            if (t.Layout is { } layout && (!_templates.TryGetValue(layout, out var l) || l.Kind != "layout"))
                errors.Add(new TemplateError($"{t.Id}.layout", 0, 0, $"'{layout}' is not a layout template"));
            foreach (var (locale, parts) in t.Locales)
            foreach (var (part, source) in parts)
            foreach (var include in LiquidCheck.Check(source, "").Includes)
            {
                if (!_templates.TryGetValue(include, out var p) || p.Kind != "partial")
                    errors.Add(new TemplateError($"{t.Id}.locales.{locale}.{part}", 0, 0, $"includes '{include}', which is not a partial template"));
            }

            if (t.Kind == "partial" && IncludeLoop(t.Id, [t.Id]) is { } loop)
                errors.Add(new TemplateError(t.Id, 0, 0, $"includes itself: {string.Join(" → ", loop)}"));
        }

        return errors;
    }

    /// <summary>Renders the parts <paramref name="request"/>'s channel needs.</summary>
    /// <exception cref="TemplateRenderException">The template is missing, lacks the channel's parts, or hits a limit.</exception>
    public RenderedMessage Render(RenderRequest request)
    {
        if (!_templates.TryGetValue(request.TemplateId, out var template) || template.Kind != "message")
            throw new TemplateRenderException($"There is no message template '{request.TemplateId}'.");
        var locale = PickLocale(template, request.Locale);
        var parts = template.Locales[locale];
        string? Part(string name) => parts.TryGetValue(name, out var s) ? s : null;

        var (subjectPart, htmlPart, textPart) = request.Channel switch
        {
            ChannelNames.Email => ("subject", "html", "text"),
            ChannelNames.Sms => (null, null, Part("sms") is null ? "text" : "sms"),
            ChannelNames.WeCom or ChannelNames.DingTalk => (Part("title") is null ? "subject" : "title", null, Part("text") is null ? "sms" : "text"),
            ChannelNames.Inbox => (Part("title") is null ? "subject" : "title", Part("body") is null ? "html" : null, Part("body") is null ? "text" : "body"),
            _ => ("subject", "html", "text"),
        };
        var where = $"Template '{template.Id}' ({locale})";
        if (request.Channel == ChannelNames.Email && (Part("subject") is null || (Part("html") ?? Part("text")) is null))
            throw new TemplateRenderException($"{where} needs a subject and an html or text part for email.");
        if (request.Channel is ChannelNames.Sms && Part(textPart!) is null)
            throw new TemplateRenderException($"{where} needs an sms or text part for SMS.");

        // The model is turned into Liquid values once per escaping: as given, and HTML-escaped.
        Hash? raw = null, escaped = null;
        Hash Raw() => raw ??= Variables(request.Model, html: false, locale);
        Hash Escaped() => escaped ??= Variables(request.Model, html: true, locale);
        string? subject = subjectPart is not null && Part(subjectPart) is not null ? RenderPart(template.Id, locale, subjectPart, request, Raw()).Trim() : null;
        string? html = htmlPart is not null && Part(htmlPart) is not null ? RenderPart(template.Id, locale, htmlPart, request, Escaped()) : null;
        if (html is not null && template.Layout is { } layoutId && _templates.TryGetValue(layoutId, out var layout))
        {
            // The message body enters its layout as HTML already escaped where it had to be. A layout
            // whose only Liquid is {{ content }} (the usual kind) is a frame: no render needed.
            var layoutLocale = PickLocale(layout, locale);
            if (_frames.GetOrAdd((layoutId, layoutLocale), key => Frame(_templates[key.Id].Locales[key.Locale]["html"])) is var (before, after))
                html = string.Concat(before, html, after);
            else
            {
                var withContent = Escaped();
                withContent["content"] = html;
                html = RenderPart(layoutId, layoutLocale, "html", request, withContent);
            }
        }

        string? text = textPart is not null && Part(textPart) is not null ? RenderPart(template.Id, locale, textPart, request, Raw()) : null;
        if (request.Channel == ChannelNames.Email && text is null && html is not null) text = TextFromHtml(html);
        return new RenderedMessage(locale, subject, html, text);
    }

    /// <summary>The variant for <paramref name="wanted"/>: exact, then same language, then the default, then the first.</summary>
    public string PickLocale(MessageTemplate template, string? wanted)
    {
        var keys = template.Locales.Keys;
        if (wanted is not null)
        {
            if (keys.FirstOrDefault(k => k.Equals(wanted, StringComparison.OrdinalIgnoreCase)) is { } exact) return exact;
            var language = wanted.Split('-', '_')[0];
            if (keys.FirstOrDefault(k => k.Split('-')[0].Equals(language, StringComparison.OrdinalIgnoreCase)) is { } sameLanguage) return sameLanguage;
        }

        return keys.FirstOrDefault(k => k.Equals(DefaultLocale, StringComparison.OrdinalIgnoreCase)) ?? keys.First();
    }

    private static Hash Variables(IReadOnlyDictionary<string, object?> model, bool html, string locale)
    {
        var variables = (Hash)Liquid(model, html)!;
        variables["customer_locale"] = locale;
        return variables;
    }

    private string RenderPart(string id, string locale, string part, RenderRequest request, Hash variables)
    {
        var source = _templates[id].Locales[locale][part];
        if (!source.Contains("{{", StringComparison.Ordinal) && !source.Contains("{%", StringComparison.Ordinal)) return source; // plain text
        var template = Parsed(id, locale, part);
        var context = ThreadContext(variables);
        var registers = context.Registers;
        registers["file_system"] = this;
        registers[LocaleKey] = locale;
        registers[TemplateFilters.ZoneKey] = request.Zone;
        registers[TemplateFilters.CurrencyKey] = request.Currency;
        registers[TemplateFilters.NowKey] = request.Now;
        var parameters = RenderParameters.FromContext(context, CultureInfo.InvariantCulture);
        try
        {
            return template.Render(parameters);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
        {
            throw new TemplateRenderException($"Template '{id}' ({locale}, {part}) failed to render: {e.Message}", e);
        }
    }

    [GeneratedRegex(@"^(?<before>(?:(?!\{\{|\{%).)*)\{\{-?\s*content\s*-?\}\}(?<after>(?:(?!\{\{|\{%).)*)$", RegexOptions.Singleline)]
    private static partial Regex FramePattern();

    /// <summary>The text before and after <c>{{ content }}</c> when that is a layout's only Liquid, else null.</summary>
    private static (string Before, string After)? Frame(string layout) =>
        FramePattern().Match(layout) is { Success: true } m ? (m.Groups["before"].Value, m.Groups["after"].Value) : null;

    [ThreadStatic] private static Context? t_context;

    /// <summary>
    /// This thread's render context, emptied and given <paramref name="variables"/>. A context is reused
    /// because DotLiquid sets up its filters per context by reflection (about 100 µs); rendering is
    /// synchronous, so one thread renders one template at a time.
    /// </summary>
    private static Context ThreadContext(Hash variables)
    {
        var context = t_context ??= new Context([], new Hash(), new Hash(), ErrorsOutputMode.Rethrow, MaxIterations, CultureInfo.InvariantCulture, CancellationToken.None);
        context.Environments.Clear();
        context.Environments.Add(variables);
        context.Scopes.Clear();
        context.Scopes.Add(new Hash());
        context.Registers.Clear();
        // Missing variables are recorded here on every render; kept, they would grow without end.
        context.Errors.Clear();
        return context;
    }

    private Template Parsed(string id, string locale, string part) => _parsed.GetOrAdd((id, locale, part), key =>
    {
        try
        {
            var t = Template.Parse(_templates[key.Id].Locales[key.Locale][key.Part]);
            t.MakeThreadSafe();
            return t;
        }
        catch (SyntaxException e)
        {
            throw new TemplateRenderException($"Template '{key.Id}' ({key.Locale}, {key.Part}): {e.Message}", e);
        }
    });

    Template ITemplateFileSystem.GetTemplate(Context context, string templateName)
    {
        var id = templateName.Trim('\'', '"');
        if (!_templates.TryGetValue(id, out var partial) || partial.Kind != "partial")
            throw new TemplateRenderException($"There is no partial template '{id}'.");
        return Parsed(id, PickLocale(partial, context.Registers[LocaleKey] as string), "body");
    }

    string IFileSystem.ReadTemplateFile(Context context, string templateName) =>
        throw new NotSupportedException("Includes are served parsed through GetTemplate.");

    private List<string>? IncludeLoop(string id, List<string> path)
    {
        if (!_templates.TryGetValue(id, out var t)) return null;
        foreach (var source in t.Locales.Values.SelectMany(p => p.Values))
        foreach (var include in LiquidCheck.Check(source, "").Includes)
        {
            if (path.Contains(include)) return [.. path, include];
            if (IncludeLoop(include, [.. path, include]) is { } loop) return loop;
        }

        return null;
    }

    /// <summary>Turns model values into what Liquid reads; in HTML parts every string is HTML-escaped on the way in.</summary>
    private static object? Liquid(object? value, bool html) => value switch
    {
        null => null,
        string s => html ? WebUtility.HtmlEncode(s) : s,
        IReadOnlyDictionary<string, object?> map => Hash(map, html),
        IDictionary<string, object?> map => Hash(map.AsReadOnly(), html),
        IEnumerable list and not string => list.Cast<object?>().Select(v => Liquid(v, html)).ToList(),
        _ => value,
    };

    // Filled in place: Hash.FromDictionary copies a dictionary it was given into a new one.
    private static Hash Hash(IReadOnlyDictionary<string, object?> map, bool html)
    {
        var hash = new Hash();
        foreach (var (key, item) in map) hash[key] = Liquid(item, html);
        return hash;
    }

    [GeneratedRegex("<(script|style)[^>]*>.*?</\\1>|<[^>]+>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex Tags();

    [GeneratedRegex("[ \\t]*\\n[ \\t\\n]*\\n")]
    private static partial Regex BlankLines();

    /// <summary>A plain-text alternative made from HTML when the template has no text part.</summary>
    public static string TextFromHtml(string html)
    {
        var withBreaks = Regex.Replace(html, "<(br|/p|/div|/h[1-6]|/li|/tr)[^>]*>", "\n", RegexOptions.IgnoreCase);
        var text = WebUtility.HtmlDecode(Tags().Replace(withBreaks, ""));
        return BlankLines().Replace(text, "\n\n").Trim();
    }
}
