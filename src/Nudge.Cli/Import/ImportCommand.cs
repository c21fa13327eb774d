using System.CommandLine;
using System.Globalization;
using Nudge.Engine.Imports;
using Spectre.Console;

namespace Nudge.Cli.Import;

internal static class ImportCommand
{
    private const int RejectedShown = 20;

    public static Command Create()
    {
        var store = new StoreArguments();
        var kind = new Argument<ImportKind>("kind") { Description = "customers, orders, products or events" };
        var file = new Argument<FileInfo>("file") { Description = "The CSV file (header row first)" };
        var map = new Option<string[]>("--map") { Description = "Column=field, repeatable: names a column for a field, e.g. --map InvoiceNo=order_id", AllowMultipleArgumentsPerToken = true };
        var currency = new Option<string?>("--currency") { Description = "Currency of prices when the file has no currency column, e.g. GBP" };
        var dateFormat = new Option<string?>("--date-format") { Description = "Format of non-ISO timestamps, e.g. \"M/d/yyyy H:mm\"" };
        var rejects = new Option<FileInfo?>("--rejects") { Description = "Write every rejected row (line, column, reason) to this CSV file" };
        var command = new Command("import", "Import customers, orders, products or events from a CSV file; importing the same file twice changes nothing");
        command.Arguments.Add(kind);
        command.Arguments.Add(file);
        command.Options.Add(map);
        command.Options.Add(currency);
        command.Options.Add(dateFormat);
        command.Options.Add(rejects);
        store.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            var path = result.GetValue(file)!;
            if (!path.Exists)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]No such file: {path.FullName}[/]");
                return 2;
            }

            Dictionary<string, string> columns = new(StringComparer.OrdinalIgnoreCase);
            foreach (var pair in result.GetValue(map) ?? [])
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0 || eq == pair.Length - 1)
                {
                    AnsiConsole.MarkupLineInterpolated($"[red]--map {pair}: write it as Column=field, e.g. --map CustomerID=user_id[/]");
                    return 2;
                }

                columns[pair[..eq]] = pair[(eq + 1)..];
            }

            await using var nudgeStore = store.Read(result).Open();
            await nudgeStore.MigrateAsync(cancellationToken);
            var settings = new ImportSettings(result.GetValue(dateFormat), result.GetValue(currency)?.ToUpperInvariant(), DateTimeOffset.UtcNow);
            var runner = new CsvImportRunner(nudgeStore, result.GetValue(kind), columns, settings);
            ImportReport report;
            try
            {
                report = await AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .StartAsync(async ctx =>
                    {
                        var task = ctx.AddTask($"Importing {path.Name}", maxValue: 1);
                        return await runner.RunAsync(path.FullName, new Progress<double>(f => task.Value = f), cancellationToken);
                    });
            }
            catch (FormatException e)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]{e.Message}[/]");
                return 2;
            }

            Print(report);
            if (result.GetValue(rejects) is { } rejectsFile) await WriteRejectsAsync(rejectsFile, report, cancellationToken);
            return 0;
        });
        return command;
    }

    private static void Print(ImportReport report)
    {
        AnsiConsole.MarkupLineInterpolated(
            $"[green]{report.Rows} rows read[/]: {report.EventsStored} events stored, {report.Duplicates} already imported, {report.ProductsChanged} products created or changed, [yellow]{report.Rejected.Count} rows rejected[/].");
        if (report.Rejected.Count == 0) return;
        var table = new Table().AddColumns("Line", "Column", "Reason");
        foreach (var row in report.Rejected.Take(RejectedShown))
            table.AddRow(row.Line.ToString(CultureInfo.InvariantCulture), Markup.Escape(row.Column), Markup.Escape(row.Reason));
        AnsiConsole.Write(table);
        if (report.Rejected.Count > RejectedShown)
        {
            AnsiConsole.MarkupLineInterpolated($"... and {report.Rejected.Count - RejectedShown} more (write them all with --rejects FILE). By reason:");
            foreach (var group in report.Rejected.GroupBy(r => (r.Column, r.Reason.Split(':')[0])).OrderByDescending(g => g.Count()).Take(10))
                AnsiConsole.MarkupLineInterpolated($"  {group.Count(),8}  {group.Key.Column}: {group.Key.Item2}");
        }
    }

    private static async Task WriteRejectsAsync(FileInfo file, ImportReport report, CancellationToken cancellationToken)
    {
        await using var writer = file.CreateText();
        await writer.WriteLineAsync("line,column,reason");
        foreach (var row in report.Rejected)
            await writer.WriteLineAsync($"{row.Line.ToString(CultureInfo.InvariantCulture)},{Quote(row.Column)},{Quote(row.Reason)}".AsMemory(), cancellationToken);
        AnsiConsole.MarkupLineInterpolated($"Rejected rows written to {file.FullName}");
    }

    private static string Quote(string s) => "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
