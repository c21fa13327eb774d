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
    /// <summary>
    /// The first of the URLs (separated by <c>;</c>) that cannot be listened on, with a line saying why
    /// (something else listens there, the port needs privileges, the address is not this machine's); or null.
    /// </summary>
    public static string? Problem(string urls)
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
            catch (SocketException e)
            {
                var why = e.SocketErrorCode == SocketError.AddressAlreadyInUse ? "something else is listening there (another Nudge?)" : e.Message;
                return $"Cannot listen on {url}: {why}. Choose another address with --urls.";
            }
        }

        return null;
    }
}
