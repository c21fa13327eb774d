using Nudge.Channels.Bots;
using Nudge.Channels.Email;
using Nudge.Channels.Sms;
using Nudge.Channels.Webhooks;
using Nudge.Engine.Messaging;

namespace Nudge.Runtime.Delivery;

/// <summary>Channels, policy and retry settings of delivery; a channel left null is not configured.</summary>
public sealed record DeliverySettings
{
    /// <summary>Email over SMTP.</summary>
    public SmtpSettings? Email { get; init; }

    /// <summary>SMS provider.</summary>
    public SmsSettings? Sms { get; init; }

    /// <summary>WeCom group robot.</summary>
    public BotSettings? WeCom { get; init; }

    /// <summary>DingTalk group robot.</summary>
    public BotSettings? DingTalk { get; init; }

    /// <summary>The shop's webhook receiver.</summary>
    public WebhookSettings? Webhook { get; init; }

    /// <summary>The in-app inbox (on unless turned off).</summary>
    public bool Inbox { get; init; } = true;

    /// <summary>Caps, quiet hours, fallback order, default time zone.</summary>
    public PolicySettings Policy { get; init; } = new();

    /// <summary>The address customers reach this engine at: tracking, unsubscribe and receipt links start with it.</summary>
    public string PublicUrl { get; init; } = "http://127.0.0.1:5080";

    /// <summary>The template locale used when a customer's has no match.</summary>
    public string DefaultLocale { get; init; } = "zh-CN";

    /// <summary>Sends tried per message before it is dead-lettered.</summary>
    public int MaxAttempts { get; init; } = 10;

    /// <summary>The wait before the first retry; it doubles each time, with ±20 % jitter.</summary>
    public TimeSpan FirstRetry { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait between retries.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Messages claimed per round.</summary>
    public int BatchSize { get; init; } = 500;

    /// <summary>How often the popular products of the recommendation block are recounted (up to 49 days; infinite: only at the start and when asked).</summary>
    public TimeSpan PopularRefresh { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Messages prepared and sent at once.</summary>
    public int Parallelism { get; init; } = 16;

    /// <summary>How often delivery looks for due messages when nothing wakes it (real time).</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The configured channels, in the policy's fallback order.</summary>
    public IReadOnlyList<string> ConfiguredChannels() =>
        [.. Policy.Fallback.Where(c => c switch
        {
            ChannelNames.Email => Email is not null,
            ChannelNames.Sms => Sms is not null,
            ChannelNames.WeCom => WeCom is not null,
            ChannelNames.DingTalk => DingTalk is not null,
            ChannelNames.Webhook => Webhook is not null,
            ChannelNames.Inbox => Inbox,
            _ => false,
        })];
}
