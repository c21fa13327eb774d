using System.Text.Json;
using Nudge.Engine.Commerce;
using Nudge.Engine.Imports;

namespace Nudge.Engine.Tests.Imports;

public class RowConverterTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);

    private static readonly Dictionary<string, string> UciMap = new(StringComparer.OrdinalIgnoreCase)
    {
        ["InvoiceNo"] = "order_id", ["StockCode"] = "sku", ["Description"] = "name", ["Quantity"] = "quantity",
        ["InvoiceDate"] = "timestamp", ["UnitPrice"] = "price", ["CustomerID"] = "user_id",
    };

    private const string Uci = """
        InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
        536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom
        536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom
        536414,22139,,56,12/1/2010 11:52,0,,United Kingdom
        C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527,United Kingdom
        536370,22728,ALARM CLOCK BAKELIKE PINK,24,12/1/2010 8:45,3.75,12583,France
        536370,22727,ALARM CLOCK BAKELIKE RED,two dozen,12/1/2010 8:45,3.75,12583,France
        """;

    private static (List<Nudge.Engine.Events.IncomingEvent> Orders, RowConverter Converter) ConvertOrders(string csvText, IReadOnlyDictionary<string, string> map, string? dateFormat)
    {
        var csv = new CsvReader(new StringReader(csvText));
        var columns = ImportColumns.Create(ImportKind.Orders, csv.Read()!.Fields, map);
        var converter = new RowConverter(ImportKind.Orders, columns, new ImportSettings(dateFormat, "GBP", Now));
        while (csv.Read() is { } row) converter.OrderLine(row);
        return ([.. converter.CompleteOrders()], converter);
    }

    [Fact]
    public void uci_online_retail_rows_become_orders_and_refunds_with_rejected_rows_named()
    {
        var (orders, converter) = ConvertOrders(Uci, UciMap, "M/d/yyyy H:mm");

        Assert.Equal([("536365", CommerceEvents.OrderCompleted), ("C536379", CommerceEvents.OrderRefunded)],
            orders.Select(o => (JsonDocument.Parse(o.Utf8Json).RootElement.GetProperty("properties").GetProperty("order_id").GetString(), o.Name)));
        var first = orders[0];
        Assert.Equal(("17850", new DateTimeOffset(2010, 12, 1, 8, 26, 0, TimeSpan.Zero), "import:order:536365"), (first.UserId, first.Timestamp, first.MessageId));
        using var doc = JsonDocument.Parse(first.Utf8Json);
        var properties = CommerceProperties.Read(CommerceEvents.OrderCompleted, doc.RootElement.GetProperty("properties"))!;
        Assert.Equal((6 * 2.55m + 6 * 3.39m, "GBP", 2), (properties.Total!.Value, properties.Currency, properties.Products.Count));

        Assert.Equal(
            [(4L, "CustomerID", "customer id is empty"), (6L, "InvoiceNo", "order 536370 has a rejected line (line 7); the order is skipped whole"),
             (7L, "Quantity", "\"two dozen\" is not a number")],
            converter.Rejected.Select(r => (r.Line, r.Column, r.Reason)).OrderBy(r => r.Line));
    }

    [Fact]
    public void an_order_whose_first_line_is_rejected_is_skipped_whole()
    {
        var (orders, converter) = ConvertOrders("""
            InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID
            9001,A,Mug,1,12/1/2010 8:26,-2,17850
            9001,B,Cup,1,12/1/2010 8:26,3,17850
            """, UciMap, "M/d/yyyy H:mm");
        Assert.Empty(orders);
        Assert.Equal([(2L, "UnitPrice"), (3L, "InvoiceNo")], converter.Rejected.Select(r => (r.Line, r.Column)).OrderBy(r => r.Line));
    }

    [Fact]
    public void lines_of_one_order_must_name_one_customer_and_one_currency()
    {
        var (orders, converter) = ConvertOrders("""
            order_id,user_id,timestamp,sku,quantity,price,currency
            C-100,u1,2026-11-01T10:00:00Z,A,1,10,CNY
            C-100,u2,2026-11-01T10:00:00Z,B,1,10,CNY
            C-100,u1,2026-11-01T10:00:00Z,C,1,10,USD
            C-200,u1,2026-11-01T10:00:00Z,A,2,10,CNY
            """, new Dictionary<string, string>(), null);
        Assert.Equal([("C-200", "Order Completed")], orders.Select(o => (JsonDocument.Parse(o.Utf8Json).RootElement.GetProperty("properties").GetProperty("order_id").GetString(), o.Name)));
        Assert.Equal([(2L, "order_id"), (3L, "user_id"), (4L, "currency")], converter.Rejected.Select(r => (r.Line, r.Column)).OrderBy(r => r.Line));
    }

    [Fact]
    public void a_non_iso_date_without_date_format_is_rejected_with_advice()
    {
        var (orders, converter) = ConvertOrders(Uci, UciMap, dateFormat: null);
        Assert.Empty(orders);
        Assert.Contains(converter.Rejected, r => r.Column == "InvoiceDate" && r.Reason.Contains("--date-format", StringComparison.Ordinal));
    }

    [Fact]
    public void a_map_to_a_missing_column_or_an_unknown_field_names_it()
    {
        var header = new[] { "InvoiceNo", "Country" };
        var missing = Assert.Throws<FormatException>(() => ImportColumns.Create(ImportKind.Orders, header, new Dictionary<string, string> { ["Invoice"] = "order_id" }));
        Assert.Contains("no column 'Invoice'", missing.Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<FormatException>(() => ImportColumns.Create(ImportKind.Orders, header, new Dictionary<string, string> { ["Country"] = "country" }));
        Assert.Contains("'country' is not a field of orders", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void customer_rows_become_identify_calls_with_custom_columns_as_traits()
    {
        var csv = new CsvReader(new StringReader("user_id,Email,birthday,vip_level\nu1,a@b.c,1990-05-01,gold\n,x@y.z,,\n"));
        var columns = ImportColumns.Create(ImportKind.Customers, csv.Read()!.Fields, new Dictionary<string, string>());
        var converter = new RowConverter(ImportKind.Customers, columns, new ImportSettings(null, null, Now));
        var e = converter.Customer(csv.Read()!)!;
        Assert.Equal([("email", "\"a@b.c\""), ("birthday", "\"1990-05-01\""), ("vip_level", "\"gold\"")], e.Traits.Select(t => (t.Name, t.JsonValue)));
        Assert.Null(converter.Customer(csv.Read()!));
        Assert.Equal(new RejectedRow(3, "user_id", "user id is empty"), Assert.Single(converter.Rejected));
    }

    [Fact]
    public void a_customers_tags_column_becomes_tag_events_and_a_bad_tag_rejects_the_row()
    {
        var csv = new CsvReader(new StringReader("""
            user_id,email,tags
            u1,a@shop.test,vip=gold|wholesale
            u2,b@shop.test,not a tag
            """));
        var columns = ImportColumns.Create(ImportKind.Customers, csv.Read()!.Fields, new Dictionary<string, string>());
        var converter = new RowConverter(ImportKind.Customers, columns, new ImportSettings(null, null, Now));

        var good = csv.Read()!;
        var identify = converter.Customer(good)!;
        Assert.False(JsonDocument.Parse(identify.Utf8Json).RootElement.GetProperty("traits").TryGetProperty("tags", out _));
        var tags = converter.CustomerTags(good).ToList();
        Assert.Equal([("vip", "gold"), ("wholesale", "true")], tags.Select(t =>
        {
            var p = JsonDocument.Parse(t.Utf8Json).RootElement.GetProperty("properties");
            return (p.GetProperty("tag").GetString(), p.GetProperty("value").GetString());
        }));
        Assert.All(tags, t => Assert.Equal((Nudge.Engine.Customers.TagEvents.TagAdded, "u1"), (t.Name, t.UserId)));

        Assert.Null(converter.Customer(csv.Read()!));
        var rejected = Assert.Single(converter.Rejected);
        Assert.Equal(("tags", 3), (rejected.Column, rejected.Line));
    }

    [Fact]
    public void a_customers_consent_column_becomes_the_consent_trait_and_a_bad_entry_rejects_the_row()
    {
        var csv = new CsvReader(new StringReader("""
            user_id,email,consent
            u1,a@shop.test,email|sms=no
            u2,b@shop.test,fax=yes
            """));
        var columns = ImportColumns.Create(ImportKind.Customers, csv.Read()!.Fields, new Dictionary<string, string>());
        var converter = new RowConverter(ImportKind.Customers, columns, new ImportSettings(null, null, Now));

        var identify = converter.Customer(csv.Read()!)!;
        Assert.Equal("""{"email":true,"sms":false}""", identify.Traits.Single(t => t.Name == "consent").JsonValue);
        Assert.Null(converter.Customer(csv.Read()!));
        var rejected = Assert.Single(converter.Rejected);
        Assert.Equal(("consent", 3), (rejected.Column, rejected.Line));
        Assert.Contains("email=yes|sms=no", rejected.Reason);
    }
}
