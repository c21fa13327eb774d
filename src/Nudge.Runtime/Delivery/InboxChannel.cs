using System.Threading.Channels;
using Nudge.Channels;
using Nudge.Engine.Messaging;
using Nudge.Storage;

namespace Nudge.Runtime.Delivery;

/// <summary>The in-app inbox: messages are stored per customer and pushed to open Server-Sent Events streams.</summary>
public sealed class InboxChannel(INudgeStore store, TimeProvider time) : IChannel
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<Channel<InboxItem>>> _listeners = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public string Name => ChannelNames.Inbox;

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        var item = new InboxItem(0, message.CustomerId, message.MessageId, message.Content.Subject, message.Content.Text, message.Content.Html, time.GetUtcNow(), null);
        // Listeners hear of a message once, with the id they mark it read by; a repeated delivery is not news.
        if (await store.AddInboxAsync(item, cancellationToken) is not { } id) return SendResult.Ok($"inbox:{message.MessageId}");
        item = item with { Id = id };
        Channel<InboxItem>[] listeners;
        lock (_gate) listeners = _listeners.TryGetValue(message.CustomerId, out var l) ? [.. l] : [];
        foreach (var listener in listeners) listener.Writer.TryWrite(item);
        return SendResult.Ok($"inbox:{message.MessageId}");
    }

    /// <summary>New inbox messages of a customer as they arrive, until cancelled. Bounded: a reader too slow loses pushes, not messages (they stay listed).</summary>
    public async IAsyncEnumerable<InboxItem> ListenAsync(string customerId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<InboxItem>(new BoundedChannelOptions(100) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_gate)
        {
            if (!_listeners.TryGetValue(customerId, out var list)) _listeners[customerId] = list = [];
            list.Add(channel);
        }

        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken)) yield return item;
        }
        finally
        {
            lock (_gate)
            {
                if (_listeners.TryGetValue(customerId, out var list) && list.Remove(channel) && list.Count == 0) _listeners.Remove(customerId);
            }
        }
    }
}
