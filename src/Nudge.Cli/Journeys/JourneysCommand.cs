using System.CommandLine;
using System.Globalization;
using Nudge.Engine.Definitions;
using Nudge.Engine.Journeys;
using Nudge.Engine.Messaging;
using Nudge.Runtime;
using Nudge.Runtime.Definitions;
using Nudge.Runtime.Journeys;
using Spectre.Console;

namespace Nudge.Cli.Journeys;

internal static class JourneysCommand
{
    public static Command Create()
    {
        var command = new Command("journeys", "Check and try out journey files");
        command.Subcommands.Add(Validate());
        command.Subcommands.Add(Backtest());
        return command;
    }

    private static Command Backtest()
    {
        var store = new StoreArguments();
        var file = new Argument<FileInfo>("FILE") { Description = "A journey file (YAML or JSON); templates and coupons need not exist, nothing is sent" };
        var from = new Option<DateTimeOffset>("--from") { Description = "When the journey would have started, e.g. 2026-10-01 (UTC) or 2026-10-01T00:00:00+08:00", Required = true };
        var to = new Option<DateTimeOffset?>("--to") { Description = "When to stop (default: now)" };
        var currency = new Option<string>("--currency") { Description = "The shop currency, as given to nudge serve", DefaultValueFactory = _ => "CNY" };
        var zone = new Option<string>("--time-zone")
        {
            Description = "The time zone of customers without a timezone trait (the channels file's policy.timeZone), e.g. Asia/Shanghai",
            DefaultValueFactory = _ => "UTC",
        };
        var command = new Command("backtest", "Runs a journey over the stored event history without sending anything, and reports per step how many customers would have reached it and how many messages per channel would have gone out");
        store.AddTo(command);
        command.Arguments.Add(file);
        command.Options.Add(from);
        command.Options.Add(to);
        command.Options.Add(currency);
        command.Options.Add(zone);
        command.SetAction(async (result, cancellationToken) =>
        {
            if (!TimeZoneInfo.TryFindSystemTimeZoneById(result.GetValue(zone)!, out var defaultZone))
            {
                AnsiConsole.MarkupLineInterpolated($"[red]--time-zone {result.GetValue(zone)} is not a time zone; use an IANA name such as Asia/Shanghai.[/]");
                return 2;
            }

            var path = result.GetValue(file)!;
            if (!path.Exists)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]No such file: {path.FullName}[/]");
                return 2;
            }

            var checkedJourney = JourneyFiles.Check(await File.ReadAllTextAsync(path.FullName, cancellationToken), path.FullName, null);
            foreach (var problem in checkedJourney.Problems) await Console.Out.WriteLineAsync(problem.ToString());
            if (checkedJourney.Journey is not { } journey) return 1;

            var (start, end) = (result.GetValue(from), result.GetValue(to) ?? DateTimeOffset.UtcNow);
            if (end <= start)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]--to ({end:O}) must be after --from ({start:O}).[/]");
                return 2;
            }

            await using var nudgeStore = store.Read(result).Open();
            await nudgeStore.MigrateAsync(cancellationToken);
            var products = new ProductFacts(nudgeStore);
            await products.RefreshAsync(cancellationToken);
            var definitions = new DefinitionsRegistry(nudgeStore, products, new RuntimeOptions { Currency = result.GetValue(currency)! });
            await definitions.LoadAsync(cancellationToken);
            var total = await nudgeStore.CountStatesAsync(cancellationToken);
            var report = await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask($"Replaying {total:N0} customers", maxValue: Math.Max(1, total));
                    return await JourneyBacktest.RunAsync(nudgeStore, definitions.Current, definitions.Fold, journey, start, end, defaultZone,
                        new Progress<long>(n => task.Value = n), cancellationToken);
                });
            Print(report, journey);
            return 0;
        });
        return command;
    }

    private static void Print(BacktestReport report, JourneyDefinition journey)
    {
        AnsiConsole.MarkupLineInterpolated($"[bold]{journey.Name}[/] from {report.From:yyyy-MM-dd HH:mm} to {report.To:yyyy-MM-dd HH:mm}: {report.Customers:N0} customers, {report.Events:N0} events replayed");
        AnsiConsole.MarkupLineInterpolated($"Entered {report.Entered:N0}, holdout {report.Holdout:N0}, still inside at the end {report.Entered - report.Ended.Values.Sum():N0}");
        var steps = new Table().AddColumns("step", "type", "customers reaching it");
        foreach (var step in journey.Steps) steps.AddRow(step.Id, step.Type, report.Steps.GetValueOrDefault(step.Id).ToString("N0", CultureInfo.InvariantCulture));
        AnsiConsole.Write(steps);
        var messages = new Table().AddColumns("channel", "messages");
        foreach (var (channel, count) in report.Messages.OrderBy(m => m.Key, StringComparer.Ordinal)) messages.AddRow(channel, count.ToString("N0", CultureInfo.InvariantCulture));
        AnsiConsole.Write(messages);
        foreach (var (reason, count) in report.Ended.OrderByDescending(e => e.Value)) AnsiConsole.MarkupLineInterpolated($"  ended {reason}: {count:N0}");
    }

    private static Command Validate()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "A journeys folder: journey files, with templates/ and coupons/ beside them" };
        var segments = new Option<string[]>("--segment")
        {
            Description = "A segment id that exists on the engine beyond the built-in ones (repeatable)",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("validate", "Reports every problem in a journeys folder with file, line and column; exits 1 if there is any");
        command.Arguments.Add(directory);
        command.Options.Add(segments);
        command.SetAction(async (result, cancellationToken) =>
        {
            var dir = result.GetValue(directory)!;
            if (!dir.Exists)
            {
                await Console.Error.WriteLineAsync($"There is no folder {dir.FullName}.");
                return 2;
            }

            var pack = await JourneyPack.ReadAsync(dir.FullName, KnownHere(result.GetValue(segments) ?? []), cancellationToken);
            foreach (var problem in pack.Problems) await Console.Out.WriteLineAsync(problem.ToString());
            var valid = pack.Journeys.Count(j => j.Result.Journey is not null);
            await Console.Out.WriteLineAsync(pack.Problems.Count == 0
                ? $"{valid} journeys, {pack.Templates.Count} templates and {pack.Coupons.Count} coupon campaigns are valid."
                : $"{pack.Problems.Count} problem(s) in {dir.FullName}.");
            return pack.Problems.Count == 0 ? 0 : 1;
        });
        return command;
    }

    /// <summary>Without an engine to ask: the built-in segments, the given ones, and every channel.</summary>
    private static JourneyReferences KnownHere(IEnumerable<string> segments) => new(
        new HashSet<string>(StringComparer.Ordinal), new HashSet<string>(StringComparer.Ordinal),
        DefaultDefinitions.Load().Segments.Select(s => s.Id).Concat(segments).ToHashSet(StringComparer.Ordinal),
        ChannelNames.All.ToHashSet(StringComparer.Ordinal));
}
