using System.Text.Json;
using Nudge.Engine.Commerce;

namespace Nudge.Engine.Tests.Commerce;

public class CommercePropertiesTests
{
    private static CommerceProperties Read(string name, string json)
    {
        using var doc = JsonDocument.Parse(json);
        return CommerceProperties.Read(name, doc.RootElement)!;
    }

    [Fact]
    public void order_completed_exposes_order_totals_coupon_and_products()
    {
        var order = Read(CommerceEvents.OrderCompleted, """
            {"order_id":"50314b8e","total":27.5,"revenue":25,"discount":"2.5","coupon":"hasbros","currency":"CNY",
             "products":[{"product_id":"507f1f","sku":"45790-32","name":"Monopoly","category":"Games","brand":"Hasbro","price":19,"quantity":1},
                         {"product_id":"505bd7","sku":"46493-32","name":"Uno","price":"3.25","quantity":2}]}
            """);
        Assert.Equal(("50314b8e", 27.5m, 25m, 2.5m, "hasbros", "CNY"), (order.OrderId, order.Total, order.Revenue, order.Discount, order.Coupon, order.Currency));
        Assert.Equal(27.5m, order.Amount);
        Assert.Equal(["Monopoly", "Uno"], order.Products.Select(p => p.Name));
        Assert.Equal((3.25m, 2m), (order.Products[1].Price, order.Products[1].Quantity));
    }

    [Fact]
    public void amount_falls_back_to_revenue_then_to_the_sum_of_lines()
    {
        Assert.Equal(25m, Read(CommerceEvents.OrderCompleted, """{"revenue":25}""").Amount);
        Assert.Equal(41m, Read(CommerceEvents.OrderCompleted, """{"products":[{"price":19,"quantity":1},{"price":11,"quantity":2}]}""").Amount);
    }

    [Fact]
    public void single_product_events_expose_their_product_and_default_quantity_to_one()
    {
        var viewed = Read(CommerceEvents.ProductViewed, """{"product_id":"p1","sku":"S1","category":"母婴","price":99}""");
        var product = Assert.Single(viewed.Products);
        Assert.Equal(("p1", "母婴", 99m, 1m), (product.ProductId, product.Category, product.Price, product.Quantity));
    }

    [Fact]
    public void mistyped_values_are_reported_by_path_and_read_as_absent()
    {
        using var doc = JsonDocument.Parse("""{"order_id":{},"total":"lots","revenue":"9.90","products":[{"sku":[],"price":true,"quantity":"2"},7]}""");
        List<(string, string)> errors = [];
        var order = CommerceProperties.Read(CommerceEvents.OrderCompleted, doc.RootElement, errors)!;

        Assert.Equal(
            [("properties.order_id", "must be a string or a number"), ("properties.products[0].price", "must be a number"),
             ("properties.products[0].sku", "must be a string or a number"), ("properties.products[1]", "must be an object describing a product"),
             ("properties.total", "must be a number")],
            errors.Order());
        Assert.Equal(((string?)null, (decimal?)null, 9.90m), (order.OrderId, order.Total, order.Amount));
        var line = Assert.Single(order.Products);
        Assert.Equal(((string?)null, (decimal?)null, 2m), (line.Sku, line.Price, line.Quantity));
    }
}
