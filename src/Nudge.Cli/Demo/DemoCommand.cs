using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Runtime.Journeys;
using Spectre.Console;

namespace Nudge.Cli.Demo;

/// <summary><c>nudge demo</c>: a synthetic shop run through the real engine on virtual time, then a report, then the engine keeps serving.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var customers = new Option<int>("--customers") { Description = "Simulated customers", DefaultValueFactory = _ => 20_000 };
        customers.Validators.Add(r => { if (Given(r) is < 1 or > 1_000_000) r.AddError("--customers must be between 1 and 1,000,000."); });
        var days = new Option<int>("--days") { Description = "Simulated days", DefaultValueFactory = _ => 90 };
        days.Validators.Add(r => { if (Given(r) is < 1 or > 730) r.AddError("--days must be between 1 and 730."); });
        var seed = new Option<int>("--seed") { Description = "The seed of every random choice: the same seed gives the same report", DefaultValueFactory = _ => 1 };
        var data = new Option<string>("--data") { Description = "A new folder for the demo's store (it must not hold one yet)", DefaultValueFactory = _ => "nudge-demo" };
        var urls = new Option<string>("--urls") { Description = "Address to serve on", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var until = new Option<string?>("--until") { Description = "The simulated days end at midnight UTC of this date (default: today); pass it to replay an earlier run exactly" };
        var noServe = new Option<bool>("--no-serve") { Description = "Exit after the report instead of serving the demo's data" };
        var command = new Command("demo", "Run a synthetic shop through the engine in accelerated time, print what its marketing did, then keep serving it")
        {
            customers, days, seed, data, urls, until, noServe,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var untilText = result.GetValue(until);
            if (untilText is not null && !DateOnly.TryParseExact(untilText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            {
                await Console.Error.WriteLineAsync($"--until must be a date such as 2026-11-22, not '{untilText}'.");
                return 1;
            }

            var settings = new DemoSettings(result.GetValue(customers), result.GetValue(days), result.GetValue(seed), result.GetValue(data)!, result.GetValue(urls)!,
                untilText is null ? DateOnly.FromDateTime(DateTime.UtcNow) : DateOnly.ParseExact(untilText, "yyyy-MM-dd", CultureInfo.InvariantCulture));
            return await RunAsync(settings, !result.GetValue(noServe), cancellationToken);
        });
        return command;
    }

    /// <summary>The whole number given, or null when none was (the default) or it is not one (the parser reports that).</summary>
    private static int? Given(System.CommandLine.Parsing.OptionResult result) =>
        result.Tokens is [{ } token] && int.TryParse(token.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static async Task<int> RunAsync(DemoSettings settings, bool serve, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Console;
        // Written to a file or a pipe, the report's tables get room instead of the default 80 columns.
        if (Console.IsOutputRedirected) console.Profile.Width = 160;
        if (ListenCheck.Problem(settings.Urls) is { } problem)
        {
            await Console.Error.WriteLineAsync(problem);
            return 1;
        }

        DemoRun run;
        try
        {
            run = await DemoRun.StartAsync(settings, cancellationToken);
        }
        catch (Exception e) when (e is InvalidOperationException or DirectoryNotFoundException or InvalidDataException)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 1;
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            await Console.Error.WriteLineAsync($"Cannot listen on {settings.Urls}: is another Nudge running? Choose another address with --urls.");
            return 1;
        }

        await using (run)
        {
            console.MarkupLine(CultureInfo.InvariantCulture, "Simulating [bold]{0:N0}[/] customers for [bold]{1}[/] days ({2:yyyy-MM-dd} to {3:yyyy-MM-dd}), seed {4}, store in {5}",
                settings.Customers, settings.Days, settings.Start, settings.End, settings.Seed, Markup.Escape(Path.GetFullPath(settings.DataDirectory)));
            var started = System.Diagnostics.Stopwatch.StartNew();
            await console.Progress().AutoClear(false).HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("Preparing the shop", maxValue: settings.Days * 24);
                    await run.RunAsync(p =>
                    {
                        task.Value = p.Hour;
                        if (p.Preparing is not null)
                        {
                            task.Description = p.Preparing;
                            return;
                        }

                        var rate = p.Elapsed.TotalSeconds > 0 ? p.Events / p.Elapsed.TotalSeconds : 0;
                        task.Description = string.Create(CultureInfo.InvariantCulture, $"Day {(p.Hour + 23) / 24,3}/{settings.Days} · {rate,7:N0} events/s · {p.Messages,9:N0} messages sent");
                    }, cancellationToken);
                    task.StopTask();
                    context.Refresh();
                });

            var report = await DemoReport.ComputeAsync(run.Store, run.Services.GetRequiredService<JourneyRegistry>().Current, settings.Customers, settings.Start, settings.End, cancellationToken);
            console.WriteLine();
            report.Render(console);
            console.MarkupLine(CultureInfo.InvariantCulture, "[grey]Simulated in {0} min {1} s.[/]", (int)started.Elapsed.TotalMinutes, started.Elapsed.Seconds);
            if (!serve) return 0;

            console.WriteLine();
            console.MarkupLine($"Nudge is serving the demo's data on [bold]{run.Url}[/] — time now follows the clock again.");
            console.MarkupLine($"  Admin key (Bearer token for /api): [bold]{run.AdminKey}[/]");
            console.MarkupLine($"  Write key (for /v1):               [bold]{run.WriteKey}[/]");
            console.MarkupLine($"  Try: curl -H \"Authorization: Bearer {run.AdminKey}\" {run.Url}/api/journeys   ·   caught mail: {run.Url}/api/mail   ·   API reference: {run.Url}/docs");
            console.MarkupLine("  Stop: Ctrl+C");
            try
            {
                await run.FollowWallClockAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C.
            }

            return 0;
        }
    }
}
