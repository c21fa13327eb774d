namespace Nudge.Engine.Messaging;

/// <summary>The channels a message can go out on, as they are named in intents, consent and settings.</summary>
public static class ChannelNames
{
    /// <summary>Email over SMTP.</summary>
    public const string Email = "email";

    /// <summary>SMS through an HTTP provider.</summary>
    public const string Sms = "sms";

    /// <summary>A WeCom (企业微信) group robot.</summary>
    public const string WeCom = "wecom";

    /// <summary>A DingTalk group robot.</summary>
    public const string DingTalk = "dingtalk";

    /// <summary>A signed HTTP POST to the shop's own system (Standard Webhooks).</summary>
    public const string Webhook = "webhook";

    /// <summary>The in-app inbox, read by the shop's app or mini-program.</summary>
    public const string Inbox = "inbox";

    /// <summary>Not a channel: asks delivery for the customer's most engaged reachable channel.</summary>
    public const string Best = "best";

    /// <summary>Every real channel, in the default fallback order.</summary>
    public static readonly IReadOnlyList<string> All = [Email, Sms, Inbox, WeCom, DingTalk, Webhook];

    /// <summary>True for a real channel name (not <see cref="Best"/>).</summary>
    public static bool IsChannel(string name) => All.Contains(name);
}

/// <summary>What a message is for: marketing needs opt-in and counts towards caps; transactional does neither.</summary>
public static class Topics
{
    /// <summary>Promotions, recommendations, reminders: opt-in, frequency caps and quiet hours apply.</summary>
    public const string Marketing = "marketing";

    /// <summary>Order, shipping and account messages: sent unless the customer opted out of them or the address is suppressed.</summary>
    public const string Transactional = "transactional";

    /// <summary>True for a known topic.</summary>
    public static bool IsTopic(string name) => name is Marketing or Transactional;
}
