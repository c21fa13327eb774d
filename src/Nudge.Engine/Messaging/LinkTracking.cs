using System.Text.RegularExpressions;

namespace Nudge.Engine.Messaging;

/// <summary>
/// Rewrites the links of a rendered message through click tracking and adds the open pixel. Each
/// distinct URL gets a number; the URLs are recorded with the message so a click can lead only there.
/// </summary>
public static partial class LinkTracking
{
    [GeneratedRegex("""(href\s*=\s*")(https?://[^"]+)(")""", RegexOptions.IgnoreCase)]
    private static partial Regex HtmlLink();

    [GeneratedRegex("""https?://[^\s<>"')\]]+""")]
    private static partial Regex TextLink();

    /// <summary>
    /// The HTML and text with every http(s) link replaced by <paramref name="clickUrl"/>(link number),
    /// the pixel before <c>&lt;/body&gt;</c> (or at the end), and the URLs in link-number order.
    /// Links to <paramref name="keep"/> (the unsubscribe page) stay as they are.
    /// </summary>
    public static (string? Html, string? Text, List<string> Links) Track(string? html, string? text, Func<int, string> clickUrl, string pixelUrl, string? keep)
    {
        List<string> links = [];
        string Number(string url)
        {
            if (url == keep) return url;
            var decoded = System.Net.WebUtility.HtmlDecode(url);
            var index = links.IndexOf(decoded);
            if (index < 0) { links.Add(decoded); index = links.Count - 1; }
            return clickUrl(index);
        }

        if (html is not null)
        {
            html = HtmlLink().Replace(html, m => m.Groups[1].Value + System.Net.WebUtility.HtmlEncode(Number(m.Groups[2].Value)) + m.Groups[3].Value);
            var pixel = $"""<img src="{System.Net.WebUtility.HtmlEncode(pixelUrl)}" width="1" height="1" alt="" style="display:none">""";
            var body = html.LastIndexOf("</body>", StringComparison.OrdinalIgnoreCase);
            html = body >= 0 ? html.Insert(body, pixel) : html + pixel;
        }

        if (text is not null) text = TextLink().Replace(text, m => Number(m.Value));
        return (html, text, links);
    }
}
