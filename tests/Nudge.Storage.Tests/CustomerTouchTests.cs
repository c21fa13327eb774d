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
}
