using System.Globalization;
using System.Text.Json;
using Nudge.Engine.Customers;
using Nudge.Engine.Events;
using Nudge.Engine.Journeys;
using Nudge.Engine.Messaging;
using Nudge.Storage;

namespace Nudge.Cli.Demo;

/// <summary>What one journey did during the run.</summary>
internal sealed record JourneyLine(string Journey, string Name, long Entered, IReadOnlyDictionary<string, long> Sent, long Opened, long Clicked, long Orders, decimal Revenue, decimal CouponCost);

/// <summary>What one channel carried during the run.</summary>
internal sealed record ChannelLine(string Channel, long Sent, long Opened, long Clicked, long Unsubscribed);

/// <summary>
/// The report of a run, computed from the stored data only — messages, the event log, coupon codes,
/// journey counts and customer states — so it says what the engine recorded, not what the simulation
/// intended. An order counts for a journey when it redeemed a coupon the journey issued, or else
/// when the customer clicked one of the journey's messages in the 3 days before (last click wins).
/// </summary>
internal sealed partial record DemoReport(
    int Customers, int Days, DateTimeOffset From, DateTimeOffset Until, long Events, long Orders, decimal Revenue, long Sent,
    IReadOnlyList<JourneyLine> Journeys, IReadOnlyList<ChannelLine> Channels, IReadOnlyList<KeyValuePair<string, long>> Held,
    IReadOnlyList<KeyValuePair<string, long>> Rfm, IReadOnlyList<KeyValuePair<string, long>> Stages)
{
    public static readonly TimeSpan AttributionWindow = TimeSpan.FromDays(3);

    private sealed record Order(string CustomerId, DateTimeOffset At, decimal Total, string? Coupon, decimal Discount);

    public static async Task<DemoReport> ComputeAsync(INudgeStore store, JourneySet journeys, int customers, DateTimeOffset from, DateTimeOffset until, CancellationToken cancellationToken)
    {
        // Messages: what was sent where, and what the policy held back.
        Dictionary<long, MessageRecord> messages = [];
        for (long? before = null; ;)
        {
            var page = await store.ListMessagesAsync(null, null, before, 1000, cancellationToken);
            if (page.Count == 0) break;
            foreach (var m in page) messages[m.Id] = m;
            before = page[^1].Id;
        }

        // The log: engagement and orders during the run.
        HashSet<long> opened = [], clicked = [];
        Dictionary<string, List<(DateTimeOffset At, long Message)>> clicks = new(StringComparer.Ordinal);
        Dictionary<string, long> unsubscribed = new(StringComparer.Ordinal);
        List<Order> orders = [];
        long events = 0;
        for (long after = 0; ;)
        {
            var page = await store.ReadLogAsync(after, 5000, cancellationToken);
            if (page.Count == 0) break;
            after = page[^1].Position;
            foreach (var e in page)
            {
                if (e.Timestamp < from) continue;
                events++;
                if (e.Type != EventType.Track || e.Name is not (EngagementEvents.MessageOpened or EngagementEvents.MessageClicked or "Unsubscribed" or "Order Completed")) continue;
                using var doc = JsonDocument.Parse(e.Json);
                if (!doc.RootElement.TryGetProperty("properties", out var p)) continue;
                var messageId = p.TryGetProperty("message_id", out var mid) && mid.TryGetInt64(out var id) ? id : (long?)null;
                switch (e.Name)
                {
                    case EngagementEvents.MessageOpened when messageId is { } m:
                        opened.Add(m);
                        break;
                    case EngagementEvents.MessageClicked when messageId is { } m:
                        opened.Add(m);
                        clicked.Add(m);
                        if (!clicks.TryGetValue(e.UserId!, out var list)) clicks[e.UserId!] = list = [];
                        list.Add((e.Timestamp, m));
                        break;
                    case "Unsubscribed" when p.TryGetProperty("channel", out var channel) && channel.ValueKind == JsonValueKind.String:
                        unsubscribed[channel.GetString()!] = unsubscribed.GetValueOrDefault(channel.GetString()!) + 1;
                        break;
                    case "Order Completed":
                        orders.Add(new Order(e.UserId!, e.Timestamp, Number(p, "total"), p.TryGetProperty("coupon", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null, Number(p, "discount")));
                        break;
                }
            }
        }

        // Which message each redeemed coupon came with.
        Dictionary<string, long?> couponMessages = new(StringComparer.Ordinal);
        foreach (var customer in orders.Where(o => o.Coupon is not null).Select(o => o.CustomerId).Distinct(StringComparer.Ordinal))
            foreach (var code in await store.CustomerCouponsAsync(customer, cancellationToken))
                couponMessages[code.Code] = code.MessageId;

        var byJourney = journeys.Current.Values.ToDictionary(j => j.Id, j => new JourneyTally(), StringComparer.Ordinal);
        foreach (var order in orders)
        {
            long? message = null;
            var byCoupon = order.Coupon is { } code && couponMessages.TryGetValue(code, out message) && message is not null;
            if (!byCoupon && clicks.TryGetValue(order.CustomerId, out var list))
                message = list.Where(c => c.At <= order.At && order.At - c.At <= AttributionWindow).Select(c => (long?)c.Message).LastOrDefault();
            if (message is not { } m || !messages.TryGetValue(m, out var record) || JourneyOf(record) is not { } journey || !byJourney.TryGetValue(journey, out var tally)) continue;
            tally.Orders++;
            tally.Revenue += order.Total;
            if (byCoupon) tally.CouponCost += order.Discount;
        }

        Dictionary<string, ChannelLine> channels = new(StringComparer.Ordinal);
        Dictionary<string, long> held = new(StringComparer.Ordinal);
        long sent = 0;
        foreach (var m in messages.Values)
        {
            if (m.Status == MessageStatus.Sent)
            {
                sent++;
                var channel = m.Channel ?? m.Intent.Channel;
                var line = channels.GetValueOrDefault(channel) ?? new ChannelLine(channel, 0, 0, 0, unsubscribed.GetValueOrDefault(channel));
                channels[channel] = line with { Sent = line.Sent + 1, Opened = line.Opened + (opened.Contains(m.Id) ? 1 : 0), Clicked = line.Clicked + (clicked.Contains(m.Id) ? 1 : 0) };
                if (JourneyOf(m) is { } j && byJourney.TryGetValue(j, out var tally))
                {
                    tally.Sent[channel] = tally.Sent.GetValueOrDefault(channel) + 1;
                    if (opened.Contains(m.Id)) tally.Opened++;
                    if (clicked.Contains(m.Id)) tally.Clicked++;
                }
            }
            else
            {
                var reason = m.Status == MessageStatus.Dropped ? m.Reason ?? "dropped" : $"{m.Status} at the end of the run";
                held[reason] = held.GetValueOrDefault(reason) + 1;
            }
        }

        foreach (var journey in journeys.Current.Values)
        {
            foreach (var count in await store.JourneyCountsAsync(journey.Id, cancellationToken))
                if (count.Kind == ActivityKinds.Entered) byJourney[journey.Id].Entered += count.Count;
        }

        Dictionary<string, long> rfm = new(StringComparer.Ordinal), stages = new(StringComparer.Ordinal);
        await foreach (var bytes in store.ScanStatesAsync(cancellationToken))
        {
            var state = CustomerStateCodec.Decode(bytes, StateParts.None);
            var segment = state.Rfm?.Segment ?? "(no orders)";
            var stage = state.Stage?.Name ?? "(none)";
            rfm[segment] = rfm.GetValueOrDefault(segment) + 1;
            stages[stage] = stages.GetValueOrDefault(stage) + 1;
        }

        var inRun = orders.Where(o => o.At >= from).ToList();
        return new DemoReport(customers, (int)(until - from).TotalDays, from, until, events, inRun.Count, inRun.Sum(o => o.Total), sent,
            [.. journeys.Current.Values.OrderBy(j => j.Id, StringComparer.Ordinal).Select(j => byJourney[j.Id].Line(j))],
            [.. channels.Values.OrderByDescending(c => c.Sent).ThenBy(c => c.Channel, StringComparer.Ordinal)],
            Sorted(held), Sorted(rfm), Sorted(stages));
    }

    /// <summary>The journey a message came from: its source is the step's key, <c>j:JOURNEY:VERSION:...</c>.</summary>
    public static string? JourneyOf(MessageRecord message) =>
        message.Intent.Source.StartsWith("j:", StringComparison.Ordinal) ? message.Intent.Source.Split(':')[1] : null;

    private static decimal Number(JsonElement properties, string name) =>
        properties.TryGetProperty(name, out var v) && v.TryGetDecimal(out var d) ? d : 0;

    private static List<KeyValuePair<string, long>> Sorted(Dictionary<string, long> counts) =>
        [.. counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal)];

    private sealed class JourneyTally
    {
        public long Entered;
        public long Opened;
        public long Clicked;
        public long Orders;
        public decimal Revenue;
        public decimal CouponCost;

        public Dictionary<string, long> Sent { get; } = new(StringComparer.Ordinal);

        public JourneyLine Line(JourneyDefinition journey) => new(journey.Id, journey.Name, Entered, Sent, Opened, Clicked, Orders, Revenue, CouponCost);
    }
}
