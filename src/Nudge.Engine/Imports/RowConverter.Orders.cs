using Nudge.Engine.Commerce;
using Nudge.Engine.Events;

namespace Nudge.Engine.Imports;

public sealed partial class RowConverter
{
    private readonly Dictionary<string, OrderLines> _orders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _firstRejectedLine = new(StringComparer.Ordinal);

    private sealed class OrderLines(string orderId, string userId, DateTimeOffset timestamp, string currency)
    {
        public string OrderId { get; } = orderId;
        public string UserId { get; } = userId;
        public DateTimeOffset Timestamp { get; } = timestamp;
        public string Currency { get; } = currency;
        public List<(CsvRecord Row, decimal Quantity, decimal Price)> Lines { get; } = [];
    }

    /// <summary>
    /// Rejects a row that could not be read as a whole (wrong number of fields). For orders, the order
    /// it names, if any, is rejected too: importing the rest of it would misstate the order for ever,
    /// since an imported order id is never imported again.
    /// </summary>
    public void RejectRow(CsvRecord row, string reason)
    {
        Rejected.Add(new RejectedRow(row.Line, "", reason));
        if (kind == ImportKind.Orders && columns.Get(row, "order_id") is { } orderId) _firstRejectedLine.TryAdd(orderId, row.Line);
    }

    /// <summary>
    /// Collects one order line (one row per item). Orders are complete only at the end of the file,
    /// since the lines of one order need not be adjacent; see <see cref="CompleteOrders"/>.
    /// </summary>
    public void OrderLine(CsvRecord row)
    {
        var orderId = columns.Get(row, "order_id");
        if (orderId is null) { Reject(row, "order_id", "order id is empty"); return; }
        var order = _orders.GetValueOrDefault(orderId);
        if (TryOrderLine(row, orderId, ref order)) _orders[orderId] = order!;
        else _firstRejectedLine.TryAdd(orderId, row.Line);
    }

    private bool TryOrderLine(CsvRecord row, string orderId, ref OrderLines? order)
    {
        var userId = columns.Get(row, "user_id");
        if (userId is null) { Reject(row, "user_id", "customer id is empty"); return false; }
        if (columns.Get(row, "sku") is null && columns.Get(row, "product_id") is null) { Reject(row, "sku", "sku (or product_id) is empty"); return false; }
        if (!TryDecimal(row, "quantity", out var quantity) || !TryDecimal(row, "price", out var price) || !TryTime(row, out var timestamp)) return false;
        if (quantity is null or 0) { Reject(row, "quantity", "quantity is empty or zero"); return false; }
        if (price is null) { Reject(row, "price", "unit price is empty"); return false; }
        if (price < 0) { Reject(row, "price", "unit price is negative"); return false; }
        var currency = columns.Get(row, "currency") ?? settings.Currency;
        if (currency is null) { Reject(row, "currency", "no currency: add a currency column or pass --currency, e.g. --currency GBP"); return false; }
        if (order is not null && order.UserId != userId)
        {
            Reject(row, "user_id", $"order {orderId} already belongs to customer {order.UserId}");
            return false;
        }

        if (order is not null && order.Currency != currency)
        {
            Reject(row, "currency", $"order {orderId} is already in {order.Currency}");
            return false;
        }

        order ??= new OrderLines(orderId, userId, timestamp, currency);
        order.Lines.Add((row, quantity.Value, price.Value));
        return true;
    }

    /// <summary>
    /// One Order Completed per order, or Order Refunded for a cancellation: an order whose quantities
    /// are all negative (as the UCI Online Retail layout writes its "C" invoices). A cancellation invoice
    /// does not name the order it cancels, so it carries the refunded items and amount itself. An order with any rejected line is rejected whole: a partial order would
    /// misstate what the customer spent.
    /// </summary>
    public IEnumerable<IncomingEvent> CompleteOrders()
    {
        foreach (var order in _orders.Values)
        {
            if (_firstRejectedLine.TryGetValue(order.OrderId, out var bad))
            {
                foreach (var line in order.Lines) Reject(line.Row, "order_id", $"order {order.OrderId} has a rejected line (line {bad}); the order is skipped whole");
                continue;
            }

            if (order.Lines.Count == 0) continue;
            var refund = order.Lines.All(l => l.Quantity < 0);
            var mixed = order.Lines.FirstOrDefault(l => l.Quantity < 0 != refund);
            if (mixed.Row is not null)
            {
                foreach (var line in order.Lines) Reject(line.Row, "quantity", $"order {order.OrderId} mixes positive and negative quantities");
                continue;
            }

            var first = order.Lines[0].Row;
            var e = ToEvent(first, EventType.Track, w =>
            {
                w.WriteString("messageId", $"import:order:{order.OrderId}");
                w.WriteString("event", refund ? CommerceEvents.OrderRefunded : CommerceEvents.OrderCompleted);
                w.WriteString("userId", order.UserId);
                w.WriteString("timestamp", order.Timestamp);
                w.WriteStartObject("properties");
                w.WriteString("order_id", order.OrderId);
                w.WriteNumber("total", order.Lines.Sum(l => Math.Abs(l.Quantity) * l.Price));
                w.WriteString("currency", order.Currency);
                w.WriteStartArray("products");
                foreach (var (row, quantity, price) in order.Lines)
                {
                    w.WriteStartObject();
                    w.WriteString("product_id", columns.Get(row, "product_id") ?? columns.Get(row, "sku"));
                    WriteOptional(w, "sku", columns.Get(row, "sku"));
                    WriteOptional(w, "name", columns.Get(row, "name"));
                    WriteOptional(w, "category", columns.Get(row, "category"));
                    WriteOptional(w, "brand", columns.Get(row, "brand"));
                    w.WriteNumber("price", price);
                    w.WriteNumber("quantity", Math.Abs(quantity));
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                WriteOptional(w, "coupon", columns.Get(first, "coupon"));
                if (columns.Get(first, "discount") is { } discount) w.WriteString("discount", discount);
                w.WriteEndObject();
            });
            if (e is not null) yield return e;
        }

        _orders.Clear();
        _firstRejectedLine.Clear();
    }
}
