using System.Net;
using System.Net.Sockets;

namespace Nudge.Channels;

/// <summary>Sends one HTTP request to a provider and classifies the answer the same way for every HTTP channel.</summary>
public static class HttpSend
{
    /// <summary>
    /// Sends and classifies: 2xx is sent (the body goes to <paramref name="accepted"/>, which may still
    /// find an error in it), 429 and 5xx and timeouts are worth a retry (honouring Retry-After), other 4xx are not.
    /// </summary>
    public static async Task<SendResult> SendAsync(HttpClient http, HttpRequestMessage request, Func<string, SendResult> accepted, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode) return accepted(body);
            var detail = $"HTTP {status} from {request.RequestUri?.Host}: {Shorten(body)}";
            if (status == 429 || status >= 500) return SendResult.Retry(detail, RetryAfter(response));
            return SendResult.Fail(detail);
        }
        catch (HttpRequestException e) when (e is TargetRefusedException || e.InnerException is TargetRefusedException)
        {
            return SendResult.Fail((e as TargetRefusedException ?? (TargetRefusedException)e.InnerException!).Message);
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException || e is TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return SendResult.Retry($"{request.RequestUri?.Host}: {e.Message}");
        }
    }

    /// <summary>An HTTP client for a provider: a 15 s timeout, answers of at most 1 MB, connections reused.</summary>
    public static HttpClient Client(TargetGuard? guard = null)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false };
        if (guard is not null) handler.ConnectCallback = guard.ConnectAsync;
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(15), MaxResponseContentBufferSize = 1024 * 1024 };
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => null,
        };

    private static string Shorten(string body) => body.Length <= 300 ? body : body[..300] + "…";
}

/// <summary>
/// Refuses connections to private, loopback, link-local and other internal addresses unless allowed,
/// so a webhook URL cannot reach into the shop's own network. The check runs on the address actually
/// connected to, after DNS, so a name that later resolves elsewhere cannot slip through.
/// </summary>
/// <param name="allowPrivate">Allow internal targets (development, or a webhook receiver inside the shop's network).</param>
public sealed class TargetGuard(bool allowPrivate)
{
    /// <summary>True for addresses a webhook must not reach unless allowed.</summary>
    public static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None)) return true;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || (address.GetAddressBytes()[0] & 0xFE) == 0xFC; // fc00::/7
        var b = address.GetAddressBytes();
        return b[0] == 10 || b[0] == 0 || (b[0] == 172 && b[1] is >= 16 and <= 31) || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && b[1] is >= 64 and <= 127) || b[0] >= 224;
    }

    /// <summary>The connect callback for <see cref="SocketsHttpHandler"/>.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var addresses = await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken);
        var allowed = allowPrivate ? addresses : [.. addresses.Where(a => !IsInternal(a))];
        if (allowed.Length == 0)
            throw new TargetRefusedException($"{context.DnsEndPoint.Host} is a private, loopback or link-local address; set allowPrivateTargets to send there.");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>A target refused by <see cref="TargetGuard"/>: not worth a retry.</summary>
public sealed class TargetRefusedException(string message) : HttpRequestException(message);
