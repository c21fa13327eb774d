using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Nudge.Engine.Messaging;

namespace Nudge.Channels.Webhooks;

/// <summary>Where webhooks go and how they are signed.</summary>
/// <param name="Url">The receiver.</param>
/// <param name="Secret">The signing secret, <c>whsec_</c> followed by base64 (Standard Webhooks), or any text.</param>
/// <param name="AllowPrivateTargets">Allow a receiver on a private, loopback or link-local address.</param>
/// <param name="RatePerSecond">Requests per second at most (0: no limit).</param>
public sealed record WebhookSettings(string Url, string Secret, bool AllowPrivateTargets = false, int RatePerSecond = 0);

/// <summary>
/// Posts messages as JSON, signed as the Standard Webhooks spec says: <c>webhook-id</c>,
/// <c>webhook-timestamp</c> and <c>webhook-signature</c> (<c>v1,</c> + base64 HMAC-SHA256 over
/// <c>id.timestamp.body</c>). The id is the same for every attempt of one message, so receivers can
/// drop repeats.
/// </summary>
public sealed class WebhookChannel(WebhookSettings settings, TimeProvider time) : IChannel, IDisposable
{
    private readonly HttpClient _http = HttpSend.Client(new TargetGuard(settings.AllowPrivateTargets));
    private readonly byte[] _key = SigningKey(settings.Secret);
    private readonly SendRate _rate = new(settings.RatePerSecond);

    /// <inheritdoc />
    public string Name => ChannelNames.Webhook;

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        var id = "msg_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(message.IdempotencyKey)))[..24];
        var body = Body(message);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, settings.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.Add("webhook-signature", Sign(_key, id, timestamp, body));
        await _rate.WaitAsync(cancellationToken);
        return await HttpSend.SendAsync(_http, request, _ => SendResult.Ok(id), cancellationToken);
    }

    /// <summary>The signature header value for a body.</summary>
    public static string Sign(byte[] key, string id, string timestamp, byte[] body)
    {
        var signed = Encoding.UTF8.GetBytes($"{id}.{timestamp}.").Concat(body).ToArray();
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
    }

    /// <summary>The key bytes of a secret: base64 after <c>whsec_</c>, else the UTF-8 text.</summary>
    public static byte[] SigningKey(string secret) =>
        secret.StartsWith("whsec_", StringComparison.Ordinal) ? Convert.FromBase64String(secret["whsec_".Length..]) : Encoding.UTF8.GetBytes(secret);

    private static byte[] Body(OutgoingMessage m)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("type", "message");
            w.WriteNumber("message_id", m.MessageId);
            w.WriteString("customer_id", m.CustomerId);
            w.WriteString("topic", m.Topic);
            w.WriteString("locale", m.Content.Locale);
            if (m.Content.Subject is { } s) w.WriteString("subject", s);
            if (m.Content.Text is { } t) w.WriteString("text", t);
            if (m.Content.Html is { } h) w.WriteString("html", h);
            if (m.DataJson is { } data)
            {
                w.WritePropertyName("data");
                w.WriteRawValue(data);
            }

            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _rate.Dispose();
    }
}
