using System.Globalization;
using System.Text.Json;
using Nudge.Channels.Bots;
using Nudge.Channels.Email;
using Nudge.Channels.Sms;
using Nudge.Channels.Webhooks;
using Nudge.Engine.Messaging;
using Nudge.Runtime.Definitions;

namespace Nudge.Runtime.Delivery;

/// <summary>
/// Reads delivery settings from a JSON or YAML file (<c>nudge serve --channels FILE</c>): channels,
/// policy and retries. Every problem is reported by its path; nothing starts on an invalid file.
/// </summary>
public static class DeliveryFile
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        TypeInfoResolver = DeliveryJson.Default,
    };

    /// <summary>Reads the file.</summary>
    /// <exception cref="InvalidDataException">The file is malformed or names something wrong; the message says what and where.</exception>
    public static async Task<DeliverySettings> LoadAsync(string path, CancellationToken cancellationToken)
    {
        var text = await YamlToJson.ReadFileAsync(path, "channels", cancellationToken);
        try
        {
            using var doc = JsonDocument.Parse(text);
            return Read(doc.RootElement, path);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Reads settings from a parsed document.</summary>
    public static DeliverySettings Read(JsonElement root, string path)
    {
        List<string> problems = [];
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: must be an object with any of email, sms, wecom, dingtalk, webhook, inbox, policy, publicUrl");
        var settings = new DeliverySettings();
        foreach (var p in root.EnumerateObject())
        {
            try
            {
                settings = p.Name switch
                {
                    "email" => settings with { Email = p.Value.Deserialize<SmtpSettings>(Json) },
                    "sms" => settings with { Sms = Check(p.Value.Deserialize<SmsSettings>(Json), s => s?.Format is "generic" or "twilio" or "aliyun", "sms.format must be generic, twilio or aliyun", problems) },
                    "wecom" => settings with { WeCom = p.Value.Deserialize<BotSettings>(Json) },
                    "dingtalk" => settings with { DingTalk = p.Value.Deserialize<BotSettings>(Json) },
                    "webhook" => settings with { Webhook = p.Value.Deserialize<WebhookSettings>(Json) },
                    "inbox" => settings with { Inbox = p.Value.GetBoolean() },
                    "publicUrl" => settings with { PublicUrl = p.Value.GetString()!.TrimEnd('/') },
                    "defaultLocale" => settings with { DefaultLocale = p.Value.GetString()! },
                    "maxAttempts" => settings with { MaxAttempts = p.Value.GetInt32() },
                    "policy" => settings with { Policy = Policy(p.Value, problems) },
                    _ => throw new InvalidDataException($"'{p.Name}' is not a setting; use email, sms, wecom, dingtalk, webhook, inbox, policy, publicUrl, defaultLocale or maxAttempts"),
                };
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or InvalidDataException)
            {
                problems.Add($"{p.Name}: {Plain(e)}");
            }
        }

        if (problems.Count > 0) throw new InvalidDataException($"{path}: {string.Join("; ", problems)}");
        return settings;
    }

    /// <summary>System.Text.Json's messages name .NET types; say it in the file's own terms.</summary>
    private static string Plain(Exception e)
    {
        if (e is JsonException { Message: var m } && m.Contains("could not be mapped", StringComparison.Ordinal) && m.Split('\'') is [_, var name, ..])
            return $"'{name}' is not a setting here";
        if (e is JsonException { Path: { } path }) return $"{path.TrimStart('$', '.')}: a value has the wrong type or is missing";
        return e.Message;
    }

    private static T? Check<T>(T? value, Func<T?, bool> valid, string problem, List<string> problems)
    {
        if (!valid(value)) problems.Add(problem);
        return value;
    }

    private static PolicySettings Policy(JsonElement e, List<string> problems)
    {
        var policy = new PolicySettings();
        foreach (var p in e.EnumerateObject())
        {
            switch (p.Name)
            {
                case "dailyCap": policy = policy with { DailyCap = p.Value.GetInt32() }; break;
                case "weeklyCap": policy = policy with { WeeklyCap = p.Value.GetInt32() }; break;
                case "channelCaps":
                    policy = policy with { ChannelCaps = p.Value.EnumerateObject().ToDictionary(c => c.Name, c => c.Value.Deserialize<ChannelCap>(Json)!) };
                    break;
                case "quietHours" when p.Value.ValueKind == JsonValueKind.Null:
                    policy = policy with { QuietStart = null };
                    break;
                case "quietHours":
                    policy = policy with { QuietStart = Time(p.Value, "start", problems), QuietEnd = Time(p.Value, "end", problems) ?? policy.QuietEnd };
                    break;
                case "fallback":
                    var fallback = p.Value.EnumerateArray().Select(c => c.GetString()!).ToList();
                    problems.AddRange(fallback.Where(c => !ChannelNames.IsChannel(c)).Select(c => $"policy.fallback: '{c}' is not a channel"));
                    policy = policy with { Fallback = fallback };
                    break;
                case "timeZone":
                    if (TimeZoneInfo.TryFindSystemTimeZoneById(p.Value.GetString()!, out var zone)) policy = policy with { DefaultTimeZone = zone };
                    else problems.Add($"policy.timeZone: '{p.Value.GetString()}' is not a time zone such as Asia/Shanghai");
                    break;
                default:
                    problems.Add($"policy.{p.Name}: not a setting; use dailyCap, weeklyCap, channelCaps, quietHours, fallback or timeZone");
                    break;
            }
        }

        return policy;
    }

    private static TimeOnly? Time(JsonElement e, string name, List<string> problems)
    {
        if (!e.TryGetProperty(name, out var v)) return null;
        if (TimeOnly.TryParseExact(v.GetString(), "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)) return t;
        problems.Add($"policy.quietHours.{name}: '{v}' is not a time such as 21:00");
        return null;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(SmtpSettings))]
[System.Text.Json.Serialization.JsonSerializable(typeof(SmsSettings))]
[System.Text.Json.Serialization.JsonSerializable(typeof(BotSettings))]
[System.Text.Json.Serialization.JsonSerializable(typeof(WebhookSettings))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ChannelCap))]
internal sealed partial class DeliveryJson : System.Text.Json.Serialization.JsonSerializerContext;
