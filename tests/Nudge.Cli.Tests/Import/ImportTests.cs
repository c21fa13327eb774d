using System.Diagnostics;
using Nudge.Cli.Import;
using Nudge.Engine.Imports;
using Nudge.Storage.Sqlite;

namespace Nudge.Cli.Tests.Import;

public sealed class ImportTests : IAsyncLifetime
{
    private static readonly ImportSettings Settings = new("M/d/yyyy H:mm", "GBP", new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero));
    private readonly string _directory = Directory.CreateTempSubdirectory("nudge-import-").FullName;
    private SqliteStore _store = null!;

    public async Task InitializeAsync()
    {
        _store = new SqliteStore(Path.Combine(_directory, "nudge.db"));
        await _store.MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    private Task<ImportReport> ImportAsync(ImportKind kind, string file, Dictionary<string, string>? map = null) =>
        new CsvImportRunner(_store, kind, map ?? [], Settings).RunAsync(file, null, CancellationToken.None);

    private const string UciOrders = """
        InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
        536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom
        536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom
        536366,22633,HAND WARMER UNION JACK,6,12/1/2010 8:28,1.85,17850,United Kingdom
        536414,22139,,56,12/1/2010 11:52,0,,United Kingdom
        C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527,United Kingdom
        536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,12/1/2010 8:34,1.69,13047,United Kingdom,extra
        """;

    private static readonly Dictionary<string, string> UciMap = new(StringComparer.OrdinalIgnoreCase)
    {
        ["InvoiceNo"] = "order_id", ["StockCode"] = "sku", ["Description"] = "name", ["Quantity"] = "quantity",
        ["InvoiceDate"] = "timestamp", ["UnitPrice"] = "price", ["CustomerID"] = "user_id",
    };

    [Fact]
    public async Task importing_the_same_orders_twice_leaves_the_same_state_and_reports_rejected_rows()
    {
        var file = Write("orders.csv", UciOrders);
        var first = await ImportAsync(ImportKind.Orders, file, UciMap);
        Assert.Equal((6L, 3, 0), (first.Rows, first.EventsStored, first.Duplicates));
        Assert.Equal([(5L, "CustomerID", "customer id is empty"), (7L, "", "the row has 9 fields; the header has 8")],
            first.Rejected.Select(r => (r.Line, r.Column, r.Reason)));
        var log = await _store.ReadLogAsync(0, 100, CancellationToken.None);

        var second = await ImportAsync(ImportKind.Orders, file, UciMap);
        Assert.Equal((0, 3), (second.EventsStored, second.Duplicates));
        Assert.Equal(log, await _store.ReadLogAsync(0, 100, CancellationToken.None));
        Assert.Equal(["Order Completed", "Order Completed", "Order Refunded"], log.Select(e => e.Name));
    }

    [Fact]
    public async Task the_common_order_layout_imports_without_a_map()
    {
        var file = Write("orders.csv", """
            order_id,customer_id,time,sku,quantity,unit_price,currency
            o-1,u1,2026-11-01T10:00:00Z,SKU-1,2,99.50,CNY
            o-1,u1,2026-11-01T10:00:00Z,SKU-2,1,10,CNY
            """);
        var report = await ImportAsync(ImportKind.Orders, file);
        Assert.Equal(1, report.EventsStored);
        var order = Assert.Single(await _store.ReadLogAsync(0, 10, CancellationToken.None));
        Assert.Contains("\"total\":209", order.Json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task customers_and_products_import_idempotently()
    {
        var customers = Write("customers.csv", "user_id,email,phone,city,vip\nu1,li@shop.test,+8613800000000,杭州,gold\nu2,wang@shop.test,,上海,\n");
        Assert.Equal(2, (await ImportAsync(ImportKind.Customers, customers)).EventsStored);
        Assert.Equal(0, (await ImportAsync(ImportKind.Customers, customers)).EventsStored);
        var li = await _store.GetCustomerAsync("u1", CancellationToken.None);
        Assert.Equal(("\"杭州\"", "\"gold\""), (li!.Traits["city"].JsonValue, li.Traits["vip"].JsonValue));

        var products = Write("products.csv", "product_id,name,category,price,currency,stock\np1,奶粉,母婴,199,CNY,5\np2,Lipstick,美妆,cheap,CNY,1\n");
        var first = await ImportAsync(ImportKind.Products, products);
        Assert.Equal(1, first.ProductsChanged);
        Assert.Equal(new RejectedRow(3, "price", "\"cheap\" is not a number"), Assert.Single(first.Rejected));
        Assert.Equal(0, (await ImportAsync(ImportKind.Products, products)).ProductsChanged);
        Assert.Single(await _store.ReadCatalogChangesAsync(0, 10, CancellationToken.None));
    }

    [Fact]
    public async Task the_command_prints_the_report_and_names_a_bad_map()
    {
        var file = Write("orders.csv", UciOrders);
        var (code, output) = await RunNudgeAsync("import", "orders", file, "--data", _directory, "--currency", "GBP", "--date-format", "M/d/yyyy H:mm",
            "--map", "InvoiceNo=order_id", "--map", "StockCode=sku", "--map", "Description=name", "--map", "Quantity=quantity",
            "--map", "InvoiceDate=timestamp", "--map", "UnitPrice=price", "--map", "CustomerID=user_id");
        Assert.Equal(0, code);
        Assert.Contains("6 rows read: 3 events stored", output, StringComparison.Ordinal);
        Assert.Contains("customer id is empty", output, StringComparison.Ordinal);

        var (badCode, badOutput) = await RunNudgeAsync("import", "orders", file, "--data", _directory, "--map", "Invoice=order_id");
        Assert.Equal(2, badCode);
        Assert.Contains("the file has no column 'Invoice'", badOutput, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output)> RunNudgeAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "nudge.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["COLUMNS"] = "200";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }
}
