using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nudge.Engine.Messaging;

namespace Nudge.Channels.Bots;

/// <summary>A group robot: its webhook URL and, for DingTalk's signed robots, the secret.</summary>
/// <param name="Url">The robot's webhook address (with its key or access token).</param>
/// <param name="Secret">DingTalk "加签" secret, or null.</param>
/// <param name="RatePerSecond">Posts per second at most (robots allow about 20 a minute; 0: no limit).</param>
public sealed record BotSettings(string Url, string? Secret = null, int RatePerSecond = 0);

/// <summary>
/// Posts Markdown to a WeCom (企业微信) or DingTalk group robot, mentioning the customer by mobile
/// number when there is one: community operations (社群运营) rather than a private message.
/// </summary>
public sealed class BotChannel(string name, BotSettings settings, TimeProvider time) : IChannel, IDisposable
{
    private readonly HttpClient _http = HttpSend.Client();
    private readonly SendRate _rate = new(settings.RatePerSecond);

    /// <inheritdoc />
    public string Name => name;

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        var text = message.Content.Text ?? "";
        var title = message.Content.Subject ?? "";
        var mobile = message.Address.Length > 0 && message.Address != message.CustomerId ? message.Address : null;
        JsonObject body;
        string url = settings.Url;
        if (name == ChannelNames.WeCom)
        {
            // WeCom Markdown cannot mention by mobile; a text message can, so a mention goes as text.
            body = mobile is null
                ? new JsonObject { ["msgtype"] = "markdown", ["markdown"] = new JsonObject { ["content"] = title.Length > 0 ? $"**{title}**\n{text}" : text } }
                : new JsonObject { ["msgtype"] = "text", ["text"] = new JsonObject { ["content"] = title.Length > 0 ? $"{title}\n{text}" : text, ["mentioned_mobile_list"] = new JsonArray(mobile) } };
        }
        else
        {
            body = new JsonObject
            {
                ["msgtype"] = "markdown",
                ["markdown"] = new JsonObject { ["title"] = title.Length > 0 ? title : "Nudge", ["text"] = mobile is null ? text : $"{text}\n\n@{mobile}" },
                ["at"] = new JsonObject { ["atMobiles"] = mobile is null ? new JsonArray() : new JsonArray(mobile) },
            };
            if (settings.Secret is { } secret) url = SignedDingTalkUrl(url, secret, time.GetUtcNow());
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body, BotJson.Default.JsonObject) };
        await _rate.WaitAsync(cancellationToken);
        return await HttpSend.SendAsync(_http, request, Accepted, cancellationToken);
    }

    /// <summary>DingTalk's signed URL: timestamp and base64 HMAC-SHA256 of "timestamp\nsecret".</summary>
    public static string SignedDingTalkUrl(string url, string secret, DateTimeOffset now)
    {
        var timestamp = now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var sign = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}\n{secret}")));
        return $"{url}{(url.Contains('?', StringComparison.Ordinal) ? '&' : '?')}timestamp={timestamp}&sign={Uri.EscapeDataString(sign)}";
    }

    /// <summary>Both robots answer 200 with errcode 0, or an errcode saying why not.</summary>
    private SendResult Accepted(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var code = doc.RootElement.TryGetProperty("errcode", out var c) && c.TryGetInt32(out var n) ? n : 0;
            var detail = $"{name} errcode {code}: {(doc.RootElement.TryGetProperty("errmsg", out var m) ? m.GetString() : "")}";
            return code switch
            {
                0 => SendResult.Ok(),
                45009 or 130101 or -1 => SendResult.Retry(detail, TimeSpan.FromMinutes(1)), // rate limits, system busy
                _ => SendResult.Fail(detail),
            };
        }
        catch (JsonException)
        {
            return SendResult.Ok();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _rate.Dispose();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonObject))]
internal sealed partial class BotJson : System.Text.Json.Serialization.JsonSerializerContext;
