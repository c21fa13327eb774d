using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Nudge.Server;
using Nudge.Storage;

namespace Nudge.Cli.Serve;

internal static class ServeCommand
{
    public static Command Create()
    {
        var store = new StoreArguments();
        var urls = new Option<string>("--urls") { Description = "Address to listen on", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var currency = new Option<string>("--currency")
        {
            Description = "The shop currency (ISO 4217): revenue, average order value and the RFM monetary bands count orders in it",
            DefaultValueFactory = _ => "CNY",
        };
        currency.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is not { Length: 3 } code || !code.All(char.IsAsciiLetterUpper))
                r.AddError($"--currency must be a three-letter ISO 4217 code such as CNY or USD, not '{r.GetValueOrDefault<string>()}'.");
        });
        var definitions = new Option<FileInfo?>("--definitions")
        {
            Description = "A JSON or YAML file of definitions applied at start: any of rfm, stages, tags, segments (see docs/customers.md#definitions-in-a-file)",
        };
        var channels = new Option<FileInfo?>("--channels")
        {
            Description = "A JSON or YAML file of delivery settings: email (SMTP), sms, wecom, dingtalk, webhook, inbox, policy (see docs/delivery.md)",
        };
        var journeys = new Option<DirectoryInfo?>("--journeys")
        {
            Description = "A journeys folder loaded at start: journey files, with templates/ and coupons/ (see docs/journeys.md); a changed journey becomes a new version",
        };
        var publicUrl = new Option<string?>("--public-url")
        {
            Description = "The address customers reach this engine at, for tracking, unsubscribe and callback links (default: the --urls address)",
        };
        var catchMail = new Option<bool>("--catch-mail")
        {
            Description = "Keep every email for preview at /api/mail instead of sending it (a mail catcher inside the engine replaces the SMTP server)",
        };
        var command = new Command("serve", "Run the engine: Segment-compatible ingestion on /v1, the management API on /api, docs on /docs");
        store.AddTo(command);
        command.Options.Add(urls);
        command.Options.Add(currency);
        command.Options.Add(definitions);
        command.Options.Add(channels);
        command.Options.Add(publicUrl);
        command.Options.Add(journeys);
        command.Options.Add(catchMail);
        command.SetAction(async (result, cancellationToken) =>
        {
            Nudge.Runtime.Delivery.DeliverySettings delivery;
            try
            {
                delivery = result.GetValue(channels) is { } file ? await Nudge.Runtime.Delivery.DeliveryFile.LoadAsync(file.FullName, cancellationToken) : new();
            }
            catch (InvalidDataException e)
            {
                await Console.Error.WriteLineAsync(e.Message);
                return 1;
            }

            delivery = delivery with { PublicUrl = result.GetValue(publicUrl)?.TrimEnd('/') ?? (delivery.PublicUrl == new Nudge.Runtime.Delivery.DeliverySettings().PublicUrl ? result.GetValue(urls)!.TrimEnd('/') : delivery.PublicUrl) };
            if (ListenCheck.Problem(result.GetValue(urls)!) is { } problem)
            {
                await Console.Error.WriteLineAsync(problem);
                return 1;
            }

            var options = new NudgeOptions
            {
                Store = store.Read(result),
                Urls = result.GetValue(urls)!,
                Runtime = new Nudge.Runtime.RuntimeOptions
                {
                    Currency = result.GetValue(currency)!, DefinitionsFile = result.GetValue(definitions)?.FullName, JourneysDirectory = result.GetValue(journeys)?.FullName,
                },
                WriteKey = Environment.GetEnvironmentVariable("NUDGE_WRITE_KEY"),
                AdminKey = Environment.GetEnvironmentVariable("NUDGE_ADMIN_KEY"),
                Delivery = delivery,
                CatchMail = result.GetValue(catchMail),
            };
            await using var app = await NudgeApp.BuildAsync(options, cancellationToken: cancellationToken);
            try
            {
                await app.StartAsync(cancellationToken);
            }
            catch (InvalidDataException e)
            {
                // An invalid definitions file or journeys folder: say what is wrong where, and start nothing.
                await Console.Error.WriteLineAsync(e.Message);
                return 1;
            }
            catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                await Console.Error.WriteLineAsync($"Cannot listen on {options.Urls}: {e.Message} Is another Nudge running? Choose another address with --urls.");
                return 1;
            }

            var where = options.Store.Kind != "sqlite" ? "PostgreSQL"
                : Path.GetFullPath(options.Store.Connection ?? Path.Combine(options.Store.DataDirectory, StoreOptions.SqliteFileName));
            Console.WriteLine($"Nudge is running on {options.Urls} (store: {options.Store.Kind}, {where}).");
            Console.WriteLine($"  Send events:  POST {options.Urls}/v1/track   API reference: {options.Urls}/docs   Stop: Ctrl+C");
            if (options.CatchMail) Console.WriteLine($"  Email is caught, not sent: GET {options.Urls}/api/mail lists it (admin key as Bearer token).");
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
