using Nudge.Engine.Customers;

namespace Nudge.Storage.Tests;

public sealed class CustomerTouchTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UnixEpoch;

    [Fact]
    public void touches_become_one_row_per_product_and_customer_in_key_order()
    {
        var rows = CustomerTouch.InKeyOrder([
            new("b", new ProductTouch("p2", T0, false, false)),
            new("a", new ProductTouch("p2", null, true, false)),
            new("b", new ProductTouch("p1", T0.AddDays(2), false, false)),
            new("b", new ProductTouch("p2", T0.AddDays(1), false, true)),
            new("b", new ProductTouch("p2", null, true, false))]);

        Assert.Equal([
            new("b", new ProductTouch("p1", T0.AddDays(2), false, false)),
            new("a", new ProductTouch("p2", null, true, false)),
            new("b", new ProductTouch("p2", T0.AddDays(1), true, true))], rows);
    }

    [Fact]
    public void many_touches_in_any_order_give_the_rows_of_a_plain_sort_and_merge_and_sorted_rows_come_back_as_they_are()
    {
        var random = new Random(7);
        List<CustomerTouch> touches = [.. Enumerable.Range(0, 3000).Select(_ => new CustomerTouch($"c{random.Next(80)}",
            new ProductTouch($"p{random.Next(40)}", random.Next(3) == 0 ? null : T0.AddMinutes(random.Next(10_000)), random.Next(4) == 0, random.Next(9) == 0)))];

        var rows = CustomerTouch.InKeyOrder(touches);

        List<CustomerTouch> expected = [.. touches
            .GroupBy(t => (t.Touch.ProductId, t.CustomerId))
            .Select(g => g.Aggregate((a, b) => a with { Touch = a.Touch.With(b.Touch) }))
            .OrderBy(t => t.Touch.ProductId, StringComparer.Ordinal).ThenBy(t => t.CustomerId, StringComparer.Ordinal)];
        Assert.Equal(expected, rows);
        Assert.Equal(expected, CustomerTouch.InKeyOrder(rows));
    }
}
