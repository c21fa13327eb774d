using System.Text;
using Nudge.Engine.Catalog;
using Nudge.Engine.Events;
using Nudge.Engine.Imports;
using Nudge.Storage;

namespace Nudge.Cli.Import;

/// <summary>What an import did.</summary>
public sealed record ImportReport(long Rows, int EventsStored, int Duplicates, int ProductsChanged, IReadOnlyList<RejectedRow> Rejected);

/// <summary>
/// Streams a CSV file into the store in chunks: events through the same append (and dedupe) as HTTP
/// ingestion, with message ids remembered for ever so a second import of the file changes nothing.
/// </summary>
public sealed class CsvImportRunner(INudgeStore store, ImportKind kind, IReadOnlyDictionary<string, string> map, ImportSettings settings)
{
    private const int ChunkSize = 1000;

    /// <summary>Imports the file; <paramref name="progress"/> gets the fraction of the file read.</summary>
    /// <exception cref="FormatException">The header cannot be matched (an empty file, a bad --map).</exception>
    public async Task<ImportReport> RunAsync(string file, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(file);
        using var text = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var csv = new CsvReader(text);
        var header = csv.Read() ?? throw new FormatException($"{file} is empty: the first line must be a header naming the columns.");
        var columns = ImportColumns.Create(kind, header.Fields, map);
        var converter = new RowConverter(kind, columns, settings);

        long rows = 0;
        var result = default(AppendResult);
        var productsChanged = 0;
        List<IncomingEvent> events = [];
        List<Product> products = [];
        while (csv.Read() is { } row)
        {
            rows++;
            if (row.UnclosedQuote)
            {
                converter.RejectRow(row, $"a quoted field opened on line {row.Line} is never closed, so the rest of the file could not be read");
                continue;
            }

            if (row.Fields.Length != header.Fields.Length)
            {
                converter.RejectRow(row, $"the row has {row.Fields.Length} fields; the header has {header.Fields.Length}");
                continue;
            }

            switch (kind)
            {
                case ImportKind.Customers when converter.Customer(row) is { } e:
                    events.Add(e);
                    events.AddRange(converter.CustomerTags(row));
                    break;
                case ImportKind.Events when converter.Event(row) is { } e: events.Add(e); break;
                case ImportKind.Products when converter.Product(row) is { } p: products.Add(p); break;
                case ImportKind.Orders: converter.OrderLine(row); break;
            }

            if (events.Count >= ChunkSize) result += await FlushAsync(events, cancellationToken);
            if (products.Count >= ChunkSize) productsChanged += await FlushAsync(products, cancellationToken);
            if (rows % ChunkSize == 0) progress?.Report(stream.Length == 0 ? 1 : (double)stream.Position / stream.Length);
        }

        if (kind == ImportKind.Orders)
        {
            foreach (var order in converter.CompleteOrders())
            {
                events.Add(order);
                if (events.Count >= ChunkSize) result += await FlushAsync(events, cancellationToken);
            }
        }

        result += await FlushAsync(events, cancellationToken);
        productsChanged += await FlushAsync(products, cancellationToken);
        progress?.Report(1);
        return new ImportReport(rows, result.Stored, result.Duplicates, productsChanged, [.. converter.Rejected.OrderBy(r => r.Line)]);
    }

    private async Task<AppendResult> FlushAsync(List<IncomingEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0) return default;
        var result = await store.AppendAsync(events, TimeSpan.MaxValue, cancellationToken);
        events.Clear();
        return result;
    }

    private async Task<int> FlushAsync(List<Product> products, CancellationToken cancellationToken)
    {
        if (products.Count == 0) return 0;
        var changes = await store.UpsertProductsAsync(products, settings.Now, cancellationToken);
        products.Clear();
        return changes.Select(c => c.ProductId).Distinct().Count();
    }
}
