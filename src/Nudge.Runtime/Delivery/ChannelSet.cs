using Nudge.Channels;
using Nudge.Channels.Bots;
using Nudge.Channels.Email;
using Nudge.Channels.Sms;
using Nudge.Channels.Webhooks;
using Nudge.Engine.Messaging;

namespace Nudge.Runtime.Delivery;

/// <summary>The configured channels by name, built from <see cref="DeliverySettings"/>.</summary>
public sealed class ChannelSet : IAsyncDisposable
{
    private readonly Dictionary<string, IChannel> _channels = new(StringComparer.Ordinal);

    /// <summary>Builds every configured channel.</summary>
    public ChannelSet(DeliverySettings settings, InboxChannel inbox, TimeProvider time)
    {
        if (settings.Email is { } email) _channels[ChannelNames.Email] = new SmtpChannel(email);
        if (settings.Sms is { } sms) _channels[ChannelNames.Sms] = new SmsChannel(sms with { ReceiptUrl = sms.ReceiptUrl ?? (sms.CallbackKey is { } key ? $"{settings.PublicUrl}/sms/receipts/{sms.Format}?key={Uri.EscapeDataString(key)}" : null) }, time);
        if (settings.WeCom is { } wecom) _channels[ChannelNames.WeCom] = new BotChannel(ChannelNames.WeCom, wecom, time);
        if (settings.DingTalk is { } dingtalk) _channels[ChannelNames.DingTalk] = new BotChannel(ChannelNames.DingTalk, dingtalk, time);
        if (settings.Webhook is { } webhook) _channels[ChannelNames.Webhook] = new WebhookChannel(webhook, time);
        if (settings.Inbox) _channels[ChannelNames.Inbox] = inbox;
    }

    /// <summary>The channel of this name.</summary>
    public IChannel this[string name] => _channels[name];

    /// <summary>True when the channel is configured.</summary>
    public bool Has(string name) => _channels.ContainsKey(name);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels.Values)
        {
            if (channel is IAsyncDisposable a) await a.DisposeAsync();
            else if (channel is IDisposable d) d.Dispose();
        }
    }
}
