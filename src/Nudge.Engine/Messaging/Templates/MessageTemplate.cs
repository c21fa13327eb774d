namespace Nudge.Engine.Messaging.Templates;

/// <summary>
/// A stored template: a message, a layout that wraps messages' HTML (it places them with
/// <c>{{ content }}</c>), or a partial that messages include (<c>{% include 'footer' %}</c>). Each
/// locale has its own text of each part.
/// </summary>
/// <param name="Id">Letters, digits, <c>_</c> and <c>-</c>; referenced by intents, layouts and includes.</param>
/// <param name="Kind"><c>message</c>, <c>layout</c> or <c>partial</c>.</param>
/// <param name="Layout">For a message: the layout its HTML is placed in, or null.</param>
/// <param name="Locales">Locale (<c>zh-CN</c>, <c>en</c>...) → part name → Liquid source.</param>
public sealed record MessageTemplate(
    string Id,
    string Kind,
    string? Layout,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Locales)
{
    /// <summary>Template kinds.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["message", "layout", "partial"];

    /// <summary>
    /// Parts a locale can have: email <c>subject</c>, <c>html</c> and <c>text</c>; <c>sms</c>; inbox
    /// <c>title</c> and <c>body</c>. Bots post <c>text</c> (Markdown), else <c>sms</c>.
    /// </summary>
    public static readonly IReadOnlyList<string> Parts = ["subject", "html", "text", "sms", "title", "body"];
}

/// <summary>A message rendered for one channel.</summary>
/// <param name="Locale">The locale variant used.</param>
/// <param name="Subject">Email subject or inbox/bot title.</param>
/// <param name="Html">HTML body (email, inbox), or null.</param>
/// <param name="Text">Plain text body (email alternative, SMS, bot Markdown, inbox), or null.</param>
public sealed record RenderedMessage(string Locale, string? Subject, string? Html, string? Text);

/// <summary>A problem in a template, placed by part, line and column (1-based).</summary>
/// <param name="Path">Where in the template document, e.g. <c>locales.en.html</c>.</param>
/// <param name="Line">Line in that part's source, or 0 when the problem is not in a source.</param>
/// <param name="Column">Column in that line, or 0.</param>
/// <param name="Message">What is wrong.</param>
public sealed record TemplateError(string Path, int Line, int Column, string Message)
{
    /// <inheritdoc />
    public override string ToString() => Line > 0 ? $"{Path} (line {Line}, column {Column}): {Message}" : $"{Path}: {Message}";
}

/// <summary>Rendering failed (a missing part, an include or loop limit hit, a bad value); the message names the template.</summary>
public sealed class TemplateRenderException(string message, Exception? inner = null) : Exception(message, inner);
