using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Web;
using Microsoft.Extensions.Time.Testing;
using Nudge.Channels.Bots;
using Nudge.Channels.Sms;
using Nudge.Channels.Webhooks;
using Nudge.Engine.Messaging;
using Nudge.Engine.Messaging.Templates;

namespace Nudge.Channels.Tests;

public sealed class HttpChannelTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 8, 0, 0, TimeSpan.Zero));
    private readonly HttpSink _sink = new();

    public void Dispose() => _sink.Dispose();

    private static OutgoingMessage Message(string address = "+8613800000000", string text = "Your cart is waiting 购物车") => new(
        42, "journey:1:i7:s2", "u1", Topics.Marketing, address, new RenderedMessage("zh-CN", "Cart", "<p>x</p>", text), DataJson: """{"cart":{"total":99}}""");

    [Fact]
    public async Task webhooks_are_signed_as_standard_webhooks_say_and_keep_their_id_across_attempts()
    {
        var secret = "whsec_" + Convert.ToBase64String(Encoding.UTF8.GetBytes("a-very-secret-key-of-32-bytes!!!"));
        using var channel = new WebhookChannel(new WebhookSettings(_sink.Url + "/hooks", secret, AllowPrivateTargets: true), _time);
        Assert.Equal(SendStatus.Sent, (await channel.SendAsync(Message(), CancellationToken.None)).Status);
        await channel.SendAsync(Message(), CancellationToken.None);

        var requests = _sink.Requests.ToArray();
        var r = requests[0];
        Assert.Equal(("POST", "/hooks"), (r.Method, r.PathAndQuery));
        Assert.Equal(r.Headers["webhook-id"], requests[1].Headers["webhook-id"]);
        Assert.Equal(_time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), r.Headers["webhook-timestamp"]);
        // Verified the way a receiver does it, from the spec rather than our signer.
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{r.Headers["webhook-id"]}.{r.Headers["webhook-timestamp"]}.{r.Body}")));
        Assert.Equal(expected, r.Headers["webhook-signature"]);
        using var body = JsonDocument.Parse(r.Body);
        Assert.Equal(99, body.RootElement.GetProperty("data").GetProperty("cart").GetProperty("total").GetInt32());
        Assert.Equal("Your cart is waiting 购物车", body.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public async Task webhook_targets_on_loopback_are_refused_for_good_unless_allowed()
    {
        using var channel = new WebhookChannel(new WebhookSettings(_sink.Url, "secret"), _time);
        var result = await channel.SendAsync(Message(), CancellationToken.None);
        Assert.Equal(SendStatus.Permanent, result.Status);
        Assert.Contains("allowPrivateTargets", result.Error);
        Assert.Empty(_sink.Requests);
    }

    [Theory]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.20.0.1", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("8.8.8.8", false)]
    [InlineData("2001:4860:4860::8888", false)]
    public void internal_addresses_are_recognised(string address, bool isInternal) =>
        Assert.Equal(isInternal, TargetGuard.IsInternal(System.Net.IPAddress.Parse(address)));

    [Theory]
    [InlineData(429, SendStatus.Transient)]
    [InlineData(503, SendStatus.Transient)]
    [InlineData(400, SendStatus.Permanent)]
    [InlineData(410, SendStatus.Permanent)]
    public async Task http_answers_are_classified_for_retry(int status, SendStatus expected)
    {
        _sink.Answer = _ => (status, "{}", status == 429 ? new Dictionary<string, string> { ["Retry-After"] = "120" } : null);
        using var channel = new WebhookChannel(new WebhookSettings(_sink.Url, "secret", AllowPrivateTargets: true), _time);
        var result = await channel.SendAsync(Message(), CancellationToken.None);
        Assert.Equal(expected, result.Status);
        if (status == 429) Assert.Equal(TimeSpan.FromSeconds(120), result.RetryAfter);
    }

    [Fact]
    public async Task the_generic_sms_adapter_fills_its_body_template_with_escaped_values()
    {
        using var channel = new SmsChannel(new SmsSettings
        {
            Url = _sink.Url + "/send", Headers = new Dictionary<string, string> { ["Authorization"] = "Bearer k" },
            Body = """{"mobile":"{to}","content":"{text}","ref":{id}}""",
        }, _time);
        Assert.Equal(SendStatus.Sent, (await channel.SendAsync(Message(text: "He said \"hi\"\n退订回T"), CancellationToken.None)).Status);
        var r = Assert.Single(_sink.Requests);
        Assert.Equal("Bearer k", r.Headers["Authorization"]);
        using var body = JsonDocument.Parse(r.Body);
        Assert.Equal("+8613800000000", body.RootElement.GetProperty("mobile").GetString());
        Assert.Equal("He said \"hi\"\n退订回T", body.RootElement.GetProperty("content").GetString());
        Assert.Equal(42, body.RootElement.GetProperty("ref").GetInt64());
    }

    [Fact]
    public async Task twilio_gets_its_form_and_basic_auth_and_a_bad_number_marks_the_address()
    {
        _sink.Answer = _ => (201, """{"sid": "SM123"}""", null);
        using var channel = new SmsChannel(new SmsSettings { Format = "twilio", Url = _sink.Url, AccountId = "AC1", Secret = "tok", Sender = "+15550001111", ReceiptUrl = "https://n.example/r" }, _time);
        var result = await channel.SendAsync(Message(), CancellationToken.None);
        Assert.Equal((SendStatus.Sent, "SM123"), (result.Status, result.ProviderId));
        var r = Assert.Single(_sink.Requests);
        Assert.Equal("/2010-04-01/Accounts/AC1/Messages.json", r.PathAndQuery);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("AC1:tok")), r.Headers["Authorization"]);
        var form = HttpUtility.ParseQueryString(r.Body);
        Assert.Equal(("+8613800000000", "+15550001111", "https://n.example/r?m=42"), (form["To"], form["From"], form["StatusCallback"]));

        _sink.Answer = _ => (400, """{"code": 21211, "message": "The 'To' number is not a valid phone number."}""", null);
        Assert.Equal(SendStatus.InvalidAddress, (await channel.SendAsync(Message("12"), CancellationToken.None)).Status);
    }

    [Fact]
    public async Task aliyun_requests_carry_a_signature_the_provider_can_check()
    {
        _sink.Answer = _ => (200, """{"Code": "OK", "BizId": "900^0"}""", null);
        using var channel = new SmsChannel(new SmsSettings { Format = "aliyun", Url = _sink.Url, AccountId = "LTAI", Secret = "s3cret", Sender = "小店", TemplateCode = "SMS_1" }, _time);
        var result = await channel.SendAsync(Message(), CancellationToken.None);
        Assert.Equal((SendStatus.Sent, "900^0"), (result.Status, result.ProviderId));

        // Recompute the signature from the received parameters, as Aliyun does.
        var pairs = Assert.Single(_sink.Requests).Body.Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => Uri.UnescapeDataString(p[0]), p => Uri.UnescapeDataString(p[1]));
        var signature = pairs["Signature"];
        pairs.Remove("Signature");
        var canonical = string.Join("&", pairs.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
#pragma warning disable CA5350 // Aliyun's signature is HMAC-SHA1 by its definition.
        var expected = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes("s3cret&"), Encoding.UTF8.GetBytes("POST&%2F&" + Uri.EscapeDataString(canonical))));
#pragma warning restore CA5350
        Assert.Equal(expected, signature);
        Assert.Equal(("SendSms", "+8613800000000", "42", "小店"), (pairs["Action"], pairs["PhoneNumbers"], pairs["OutId"], pairs["SignName"]));
        Assert.Equal("Your cart is waiting 购物车", JsonDocument.Parse(pairs["TemplateParam"]).RootElement.GetProperty("content").GetString());

        _sink.Answer = _ => (200, """{"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "too many"}""", null);
        Assert.Equal(SendStatus.Transient, (await channel.SendAsync(Message(), CancellationToken.None)).Status);
        _sink.Answer = _ => (200, """{"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "bad number"}""", null);
        Assert.Equal(SendStatus.InvalidAddress, (await channel.SendAsync(Message(), CancellationToken.None)).Status);
    }

    [Fact]
    public async Task wecom_mentions_the_customer_by_mobile_and_reports_its_errcodes()
    {
        _sink.Answer = _ => (200, """{"errcode": 0, "errmsg": "ok"}""", null);
        using var channel = new BotChannel(ChannelNames.WeCom, new BotSettings(_sink.Url + "/cgi-bin/webhook/send?key=k"), _time);
        Assert.Equal(SendStatus.Sent, (await channel.SendAsync(Message(), CancellationToken.None)).Status);
        using var body = JsonDocument.Parse(Assert.Single(_sink.Requests).Body);
        Assert.Equal("text", body.RootElement.GetProperty("msgtype").GetString());
        Assert.Equal("+8613800000000", body.RootElement.GetProperty("text").GetProperty("mentioned_mobile_list")[0].GetString());

        _sink.Answer = _ => (200, """{"errcode": 45009, "errmsg": "api freq out of limit"}""", null);
        Assert.Equal(SendStatus.Transient, (await channel.SendAsync(Message(), CancellationToken.None)).Status);
        _sink.Answer = _ => (200, """{"errcode": 93000, "errmsg": "invalid webhook url"}""", null);
        Assert.Equal(SendStatus.Permanent, (await channel.SendAsync(Message(), CancellationToken.None)).Status);
    }

    [Fact]
    public async Task dingtalk_posts_markdown_to_a_signed_url()
    {
        _sink.Answer = _ => (200, """{"errcode": 0, "errmsg": "ok"}""", null);
        using var channel = new BotChannel(ChannelNames.DingTalk, new BotSettings(_sink.Url + "/robot/send?access_token=t", "SECabc"), _time);
        Assert.Equal(SendStatus.Sent, (await channel.SendAsync(Message(), CancellationToken.None)).Status);
        var r = Assert.Single(_sink.Requests);
        var query = HttpUtility.ParseQueryString(r.PathAndQuery.Split('?')[1]);
        var timestamp = _time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        Assert.Equal(timestamp, query["timestamp"]);
        Assert.Equal(Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes("SECabc"), Encoding.UTF8.GetBytes($"{timestamp}\nSECabc"))), query["sign"]);
        using var body = JsonDocument.Parse(r.Body);
        Assert.Equal("markdown", body.RootElement.GetProperty("msgtype").GetString());
        Assert.Equal("+8613800000000", body.RootElement.GetProperty("at").GetProperty("atMobiles")[0].GetString());
    }
}
