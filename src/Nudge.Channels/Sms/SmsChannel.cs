using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Nudge.Engine.Messaging;

namespace Nudge.Channels.Sms;

/// <summary>SMS through an HTTP provider: a configurable generic request, Twilio's Messages API, or Aliyun's SendSms.</summary>
public sealed class SmsChannel(SmsSettings settings, TimeProvider time) : IChannel, IDisposable
{
    private readonly HttpClient _http = HttpSend.Client();
    private readonly SendRate _rate = new(settings.RatePerSecond);

    /// <inheritdoc />
    public string Name => ChannelNames.Sms;

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        var text = message.Content.Text ?? "";
        using var request = settings.Format switch
        {
            "twilio" => Twilio(message.Address, text, message.MessageId),
            "aliyun" => Aliyun(message.Address, text, message.MessageId),
            _ => Generic(message.Address, text, message.MessageId),
        };
        await _rate.WaitAsync(cancellationToken);
        var result = await HttpSend.SendAsync(_http, request, body => Accepted(body), cancellationToken);
        // Twilio answers 400 with code 21211/21614 for a number that is not a (mobile) number.
        if (settings.Format == "twilio" && result.Status == SendStatus.Permanent && result.Error is { } e && (e.Contains("21211", StringComparison.Ordinal) || e.Contains("21614", StringComparison.Ordinal)))
            return SendResult.BadAddress(e);
        return result;
    }

    private HttpRequestMessage Generic(string to, string text, long id)
    {
        var url = settings.Url ?? throw new InvalidOperationException("The generic SMS provider needs a url.");
        var body = settings.Body.Replace("{to}", Json(to), StringComparison.Ordinal).Replace("{text}", Json(text), StringComparison.Ordinal)
            .Replace("{id}", id.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in settings.Headers) request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    private HttpRequestMessage Twilio(string to, string text, long id)
    {
        var baseUrl = (settings.Url ?? "https://api.twilio.com").TrimEnd('/');
        var form = new List<KeyValuePair<string, string>> { new("To", to), new("Body", text) };
        form.Add(settings.Sender is { } s && s.StartsWith("MG", StringComparison.Ordinal) ? new("MessagingServiceSid", s) : new("From", settings.Sender ?? ""));
        // The receipt names our message, so it finds the message without a lookup by Twilio's id.
        if (settings.ReceiptUrl is { } receipts)
            form.Add(new("StatusCallback", $"{receipts}{(receipts.Contains('?', StringComparison.Ordinal) ? '&' : '?')}m={id.ToString(CultureInfo.InvariantCulture)}"));
        var request = new HttpRequestMessage(HttpMethod.Post, $"{baseUrl}/2010-04-01/Accounts/{settings.AccountId}/Messages.json") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.AccountId}:{settings.Secret}")));
        return request;
    }

    /// <summary>Aliyun's RPC-style signed request (signature version 1.0, HMAC-SHA1 over the sorted, encoded parameters).</summary>
    private HttpRequestMessage Aliyun(string to, string text, long id)
    {
        var parameters = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["AccessKeyId"] = settings.AccountId ?? "", ["Action"] = "SendSms", ["Format"] = "JSON", ["OutId"] = id.ToString(CultureInfo.InvariantCulture),
            ["PhoneNumbers"] = to, ["RegionId"] = "cn-hangzhou", ["SignName"] = settings.Sender ?? "", ["SignatureMethod"] = "HMAC-SHA1",
            ["SignatureNonce"] = Guid.NewGuid().ToString("N"), ["SignatureVersion"] = "1.0", ["TemplateCode"] = settings.TemplateCode ?? "",
            ["TemplateParam"] = JsonSerializer.Serialize(new Dictionary<string, string> { ["content"] = text }, SmsJson.Default.DictionaryStringString),
            ["Timestamp"] = time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), ["Version"] = "2017-05-25",
        };
        var query = string.Join("&", parameters.Select(p => $"{Encode(p.Key)}={Encode(p.Value)}"));
        var stringToSign = "POST&" + Encode("/") + "&" + Encode(query);
#pragma warning disable CA5350 // Aliyun's signature version 1.0 is defined as HMAC-SHA1; the provider chooses it, not us.
        var signature = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes((settings.Secret ?? "") + "&"), Encoding.UTF8.GetBytes(stringToSign)));
#pragma warning restore CA5350
        var body = $"Signature={Encode(signature)}&{query}";
        return new HttpRequestMessage(HttpMethod.Post, (settings.Url ?? "https://dysmsapi.aliyuncs.com").TrimEnd('/') + "/")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
    }

    private SendResult Accepted(string body)
    {
        if (settings.Format == "generic") return SendResult.Ok();
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (settings.Format == "twilio") return SendResult.Ok(root.TryGetProperty("sid", out var sid) ? sid.GetString() : null);
            // Aliyun answers 200 with a Code: OK, or why not.
            var code = root.TryGetProperty("Code", out var c) ? c.GetString() : null;
            if (code == "OK") return SendResult.Ok(root.TryGetProperty("BizId", out var biz) ? biz.GetString() : null);
            var detail = $"Aliyun {code}: {(root.TryGetProperty("Message", out var m) ? m.GetString() : "")}";
            return code switch
            {
                "isv.MOBILE_NUMBER_ILLEGAL" or "isv.MOBILE_COUNT_OVER_LIMIT" => SendResult.BadAddress(detail),
                "isv.BUSINESS_LIMIT_CONTROL" or "Throttling.User" or "isp.SYSTEM_ERROR" => SendResult.Retry(detail, TimeSpan.FromMinutes(1)),
                _ => SendResult.Fail(detail),
            };
        }
        catch (JsonException)
        {
            return SendResult.Ok();
        }
    }

    /// <summary>Percent-encoding as Aliyun's signature wants it (RFC 3986, space as %20, ~ kept).</summary>
    private static string Encode(string value) => Uri.EscapeDataString(value);

    private static string Json(string value) => JsonEncodedText.Encode(value, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString();

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _rate.Dispose();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class SmsJson : System.Text.Json.Serialization.JsonSerializerContext;
