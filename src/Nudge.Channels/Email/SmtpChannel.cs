using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using MimeKit.Cryptography;
using Nudge.Engine.Messaging;

namespace Nudge.Channels.Email;

/// <summary>
/// Email over SMTP through a pool of open MailKit connections. Sockets are opened with Nagle's
/// algorithm off (NoDelay): with it on, each SMTP command waits for the previous ACK and one connection
/// manages about 22 messages a second; with it off, thousands.
/// </summary>
public sealed class SmtpChannel : IChannel, IAsyncDisposable
{
    private static readonly HeaderId[] SignedHeaders = [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId, HeaderId.ListUnsubscribe, HeaderId.ListUnsubscribePost];
    private readonly SmtpSettings _settings;
    private readonly Channel<SmtpClient?> _pool;
    private readonly SendRate _rate;
    private readonly DkimSigner? _dkim;
    private readonly MailboxAddress _from;

    /// <summary>A channel sending through the server in <paramref name="settings"/>; connections open on first use.</summary>
    public SmtpChannel(SmtpSettings settings)
    {
        _settings = settings;
        _from = MailboxAddress.Parse(settings.From);
        _pool = Channel.CreateBounded<SmtpClient?>(Math.Max(1, settings.Connections));
        for (var i = 0; i < Math.Max(1, settings.Connections); i++) _pool.Writer.TryWrite(null);
        _rate = new SendRate(settings.RatePerSecond);
        if (settings.Dkim is { } dkim)
            _dkim = new DkimSigner(dkim.PrivateKeyFile, dkim.Domain, dkim.Selector) { HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed, BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed };
    }

    /// <inheritdoc />
    public string Name => ChannelNames.Email;

    /// <summary>Builds the MIME message: HTML with a text alternative, List-Unsubscribe on marketing, DKIM when configured.</summary>
    public MimeMessage Build(OutgoingMessage message)
    {
        // The same intent always has the same Message-ID, so a receiving system can spot a copy. (Given
        // to the constructor, it also spares MimeKit generating one only to have it replaced.)
        var mime = new MimeMessage(new Header(HeaderId.MessageId, $"<{Hash(message.IdempotencyKey)}@{_from.Domain}>"));
        // A copy per message: an address list subscribes to each address's Changed event, so adding
        // the one long-lived sender address would keep every message ever built alive through it.
        mime.From.Add(new MailboxAddress(_from.Name, _from.Address));
        mime.To.Add(MailboxAddress.Parse(message.Address));
        mime.Subject = message.Content.Subject ?? "";
        mime.Headers.Add("X-Nudge-Message", message.MessageId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (message.Topic == Topics.Marketing && message.UnsubscribeUrl is { } unsubscribe)
        {
            // RFC 8058: mail clients show an unsubscribe button that POSTs to the link, no page, no cookies.
            mime.Headers.Add(HeaderId.ListUnsubscribe, $"<{unsubscribe}>");
            mime.Headers.Add(HeaderId.ListUnsubscribePost, "List-Unsubscribe=One-Click");
        }

        var body = new BodyBuilder { HtmlBody = message.Content.Html, TextBody = message.Content.Text };
        mime.Body = body.ToMessageBody();
        if (_dkim is not null)
        {
            mime.Prepare(EncodingConstraint.SevenBit);
            _dkim.Sign(mime, SignedHeaders);
        }

        return mime;
    }

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        MimeMessage mime;
        try
        {
            mime = Build(message);
        }
        catch (ParseException e)
        {
            return SendResult.BadAddress($"'{message.Address}' is not an email address: {e.Message}");
        }

        await _rate.WaitAsync(cancellationToken);
        var client = await _pool.Reader.ReadAsync(cancellationToken);
        try
        {
            // A pooled connection may have been closed by the server while idle: one fresh try then.
            var reused = client is not null;
            while (true)
            {
                try
                {
                    client ??= await ConnectAsync(cancellationToken);
                    return SendResult.Ok(await client.SendAsync(mime, cancellationToken));
                }
                catch (Exception e) when (IsConnectionFailure(e, cancellationToken))
                {
                    client?.Dispose();
                    client = null;
                    if (reused) { reused = false; continue; }
                    return SendResult.Retry($"SMTP connection to {_settings.Host}:{_settings.Port} failed: {e.Message}");
                }
            }
        }
        catch (SmtpCommandException e)
        {
            var code = (int)e.StatusCode;
            // 421: the server is closing the connection; other refusals leave it usable for the next message.
            if (code == 421) { client?.Dispose(); client = null; }
            if (code is >= 400 and < 500) return SendResult.Retry($"SMTP {code}: {e.Message}");
            return e.ErrorCode == SmtpErrorCode.RecipientNotAccepted
                ? SendResult.BadAddress($"SMTP {code}: {e.Message}")
                : SendResult.Fail($"SMTP {code}: {e.Message}");
        }
        finally
        {
            _pool.Writer.TryWrite(client);
        }
    }

    private static bool IsConnectionFailure(Exception e, CancellationToken cancellationToken) =>
        e is SmtpProtocolException or IOException or SocketException or ServiceNotConnectedException or SslHandshakeException or AuthenticationException
        || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private async Task<SmtpClient> ConnectAsync(CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var client = new SmtpClient { Timeout = 30_000 };
        try
        {
            await socket.ConnectAsync(_settings.Host, _settings.Port, cancellationToken);
            var security = _settings.Security switch
            {
                "tls" => SecureSocketOptions.SslOnConnect,
                "starttls" => SecureSocketOptions.StartTls,
                _ => SecureSocketOptions.None,
            };
            await client.ConnectAsync(socket, _settings.Host, _settings.Port, security, cancellationToken);
            if (_settings.Username is { } user) await client.AuthenticateAsync(user, _settings.Password ?? "", cancellationToken);
            return client;
        }
        catch
        {
            client.Dispose();
            socket.Dispose();
            throw;
        }
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..32];

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _pool.Writer.TryComplete();
        await foreach (var client in _pool.Reader.ReadAllAsync())
        {
            if (client is null) continue;
            try
            {
                if (client.IsConnected) await client.DisconnectAsync(true);
            }
            catch (Exception e) when (e is IOException or SocketException or SmtpProtocolException)
            {
                // Closing politely failed; the socket goes anyway.
            }

            client.Dispose();
        }

        _rate.Dispose();
    }
}
