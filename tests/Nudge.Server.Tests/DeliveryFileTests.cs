using Nudge.Engine.Messaging;
using Nudge.Runtime.Delivery;

namespace Nudge.Server.Tests;

public sealed class DeliveryFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nudge-delivery-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<DeliverySettings> LoadAsync(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        await File.WriteAllTextAsync(path, text);
        return await DeliveryFile.LoadAsync(path, CancellationToken.None);
    }

    [Fact]
    public async Task a_yaml_file_configures_channels_and_policy()
    {
        var settings = await LoadAsync("channels.yaml", """
            publicUrl: https://nudge.shop.example/
            email: { host: smtp.shop.example, port: 587, security: starttls, from: "Shop <news@shop.example>", connections: 8, ratePerSecond: 50 }
            sms: { format: aliyun, accountId: LTAI, secret: s, sender: 小店, templateCode: SMS_1, callbackKey: k }
            dingtalk: { url: "https://oapi.dingtalk.com/robot/send?access_token=t", secret: SEC }
            policy:
              dailyCap: 3
              channelCaps: { sms: { daily: 1 } }
              quietHours: { start: "22:00", end: "07:30" }
              fallback: [sms, email, inbox]
              timeZone: Asia/Shanghai
            """);
        Assert.Equal(("smtp.shop.example", 587, 8), (settings.Email!.Host, settings.Email.Port, settings.Email.Connections));
        Assert.Equal(("aliyun", "SMS_1"), (settings.Sms!.Format, settings.Sms.TemplateCode));
        Assert.Equal("SEC", settings.DingTalk!.Secret);
        Assert.Equal("https://nudge.shop.example", settings.PublicUrl);
        Assert.Equal((3, 5, new TimeOnly(22, 0), new TimeOnly(7, 30)), (settings.Policy.DailyCap, settings.Policy.WeeklyCap, settings.Policy.QuietStart, settings.Policy.QuietEnd));
        Assert.Equal(1, settings.Policy.ChannelCaps[ChannelNames.Sms].Daily);
        Assert.Equal([ChannelNames.Sms, ChannelNames.Email, ChannelNames.Inbox, ChannelNames.DingTalk], settings.ConfiguredChannels().Concat([ChannelNames.DingTalk]).Distinct());
        Assert.Equal("Asia/Shanghai", settings.Policy.DefaultTimeZone.Id);
    }

    [Fact]
    public async Task every_mistake_in_a_file_is_named()
    {
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => LoadAsync("bad.json", """
            {"emial": {}, "sms": {"format": "nexmo"}, "email": {"hots": "x"}, "policy": {"quietHours": {"start": "9pm"}, "fallback": ["fax"], "timeZone": "Mars/Base"}}
            """));
        foreach (var part in new[] { "'emial' is not a setting", "sms.format must be generic, twilio or aliyun", "email:", "hots", "policy.quietHours.start", "'fax' is not a channel", "Mars/Base" })
            Assert.Contains(part, e.Message);
        var yaml = await Assert.ThrowsAsync<InvalidDataException>(() => LoadAsync("bad.yaml", "email: [unclosed"));
        Assert.Contains("bad.yaml:2:1: not valid YAML", yaml.Message);
    }
}
