using System.Text;
using Microsoft.Net.Http.Headers;

namespace Nudge.Server.Auth;

/// <summary>Reads keys from request headers the way Segment SDKs and API clients send them.</summary>
public static class Credentials
{
    /// <summary>
    /// The write key from <c>Authorization: Basic base64(key:)</c> — the key is the user name, the
    /// password empty, with or without the colon. Null when there is no Basic header.
    /// </summary>
    public static string? BasicUser(HttpRequest request)
    {
        var header = request.Headers[HeaderNames.Authorization].ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? decoded : decoded[..colon];
        }
        catch (FormatException)
        {
            return "";
        }
    }

    /// <summary>The key from <c>Authorization: Bearer KEY</c>, or null.</summary>
    public static string? Bearer(HttpRequest request)
    {
        var header = request.Headers[HeaderNames.Authorization].ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }
}
