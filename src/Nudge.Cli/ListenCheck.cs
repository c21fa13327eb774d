using System.Net;
using System.Net.Sockets;

namespace Nudge.Cli;

/// <summary>
/// Finds out, before anything is created, whether an address Nudge is asked to listen on is taken. A
/// second Nudge started by mistake then says so in one line, without creating a store or a demo folder
/// for nothing and without the host's stack traces.
/// </summary>
internal static class ListenCheck
{
    /// <summary>The first of the URLs (separated by <c>;</c>) whose address and port something else listens on, or null.</summary>
    public static string? Taken(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Kestrel's wildcards: every address.
            var parseable = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (!Uri.TryCreate(parseable, UriKind.Absolute, out var uri) || uri.Port <= 0) continue;
            var address = uri.Host == "localhost" ? IPAddress.Loopback : IPAddress.TryParse(uri.Host, out var ip) ? ip : null;
            if (address is null) continue;
            try
            {
                var listener = new TcpListener(address, uri.Port);
                listener.Start();
                listener.Stop();
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                return url;
            }
        }

        return null;
    }
}
