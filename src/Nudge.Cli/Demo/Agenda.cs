namespace Nudge.Cli.Demo;

/// <summary>Something a simulated customer (or the shop, for them) does at a time.</summary>
internal abstract record DemoAction(DateTimeOffset At, Shopper Shopper);

/// <summary>Registers: identify with traits and consent, then Signed Up.</summary>
internal sealed record SignUp(DateTimeOffset At, Shopper Shopper) : DemoAction(At, Shopper);

/// <summary>A visit to the shop: browsing, maybe the cart, maybe an order.</summary>
internal sealed record Visit(DateTimeOffset At, Shopper Shopper) : DemoAction(At, Shopper);

/// <summary>A visit that comes from a message: to the product it showed, more ready to buy.</summary>
internal sealed record MessageVisit(DateTimeOffset At, Shopper Shopper, string? ProductId) : DemoAction(At, Shopper);

/// <summary>The shop ships or delivers an order.</summary>
internal sealed record Fulfil(DateTimeOffset At, Shopper Shopper, string OrderId, string Event) : DemoAction(At, Shopper);

/// <summary>A message is opened (its pixel loads).</summary>
internal sealed record Open(DateTimeOffset At, Shopper Shopper, string Url) : DemoAction(At, Shopper);

/// <summary>A link in a message is clicked.</summary>
internal sealed record Click(DateTimeOffset At, Shopper Shopper, string Url) : DemoAction(At, Shopper);

/// <summary>The shop's app shows the inbox: the messages are marked read.</summary>
internal sealed record ReadInbox(DateTimeOffset At, Shopper Shopper, List<long> Ids) : DemoAction(At, Shopper);

/// <summary>The one-click unsubscribe of an email (RFC 8058 POST).</summary>
internal sealed record Unsubscribe(DateTimeOffset At, Shopper Shopper, string Url) : DemoAction(At, Shopper);

/// <summary>
/// What is due, in time order; actions at the same time keep the order they were planned in, so a
/// run plays out the same way every time.
/// </summary>
internal sealed class Agenda
{
    private readonly PriorityQueue<DemoAction, (DateTimeOffset, long)> _queue = new();
    private long _planned;

    public int Count => _queue.Count;

    public void Plan(DemoAction action) => _queue.Enqueue(action, (action.At, _planned++));

    /// <summary>Takes every action due by <paramref name="until"/>, in order.</summary>
    public List<DemoAction> TakeUntil(DateTimeOffset until)
    {
        List<DemoAction> due = [];
        while (_queue.TryPeek(out var action, out var key) && key.Item1 <= until)
        {
            _queue.Dequeue();
            due.Add(action);
        }

        return due;
    }
}
