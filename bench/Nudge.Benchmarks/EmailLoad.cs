using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MimeKit;
using Nudge.Channels.Email;
using Nudge.Engine.Events;
using Nudge.Engine.Messaging;
using Nudge.Runtime.Delivery;
using Nudge.Server;
using Nudge.Storage;

namespace Nudge.Benchmarks;

/// <summary>
/// Personalised email through the whole delivery path — claim from the outbox, load the customer,
/// consent and caps, render (layout, partial, tracking links), send over pooled MailKit connections,
/// record — beside the ceiling: MailKit with NoDelay sending ready-made messages to the same sink over
/// the same number of connections, measured in the same run.
/// </summary>
internal static class EmailLoad
{
    public static async Task RunAsync(int messages, int connections)
    {
        Console.WriteLine($"Email load: {messages:N0} messages, {connections} SMTP connections, {Environment.ProcessorCount} cores; sink: Nudge's mail catcher on loopback");
        await using var sink = new MailCatcher(keep: 0);
        await CeilingAsync(sink, Math.Min(messages, 2_000), connections); // warm-up: JIT and the sink, untimed
        var ceiling = await CeilingAsync(sink, messages, connections);
        var pipeline = await PipelineAsync(sink, messages, connections);
        Console.WriteLine();
        Console.WriteLine("| path | emails/s | ratio to ceiling |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine($"| ceiling: MailKit + NoDelay, ready-made messages | {ceiling:N0} | 100% |");
        Console.WriteLine($"| Nudge: outbox → policy → render → SMTP → recorded | {pipeline.Rate:N0} | {pipeline.Rate / ceiling:P0} |");
        Console.WriteLine($"CPU use during the Nudge phase: {pipeline.Cpu:P0} of {Environment.ProcessorCount} cores");
    }

    private static async Task<double> CeilingAsync(MailCatcher sink, int messages, int connections)
    {
        var from = MailboxAddress.Parse("Shop <news@shop.example>");
        var ready = Enumerable.Range(0, messages).Select(i =>
        {
            var m = new MimeMessage();
            m.From.Add(from);
            m.To.Add(MailboxAddress.Parse($"c{i}@example.com"));
            m.Subject = $"Ada {i}, your cart is waiting";
            m.Body = new BodyBuilder { HtmlBody = Html.Replace("{{ customer.first_name }}", "Ada", StringComparison.Ordinal), TextBody = "Your cart is waiting" }.ToMessageBody();
            return m;
        }).ToArray();
        var before = sink.Received;
        var clock = Stopwatch.StartNew();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync("127.0.0.1", sink.Port);
            using var client = new SmtpClient();
            await client.ConnectAsync(socket, "127.0.0.1", sink.Port, SecureSocketOptions.None);
            int i;
            while ((i = Interlocked.Increment(ref next)) < messages) await client.SendAsync(ready[i]);
            await client.DisconnectAsync(true);
        }));
        clock.Stop();
        if (sink.Received - before != messages) throw new InvalidOperationException("The sink did not receive every message.");
        return messages / clock.Elapsed.TotalSeconds;
    }

    private static async Task<(double Rate, double Cpu)> PipelineAsync(MailCatcher sink, int messages, int connections)
    {
        var directory = Directory.CreateTempSubdirectory("nudge-bench-email-").FullName;
        var storeOptions = new StoreOptions("sqlite", directory);
        var now = DateTimeOffset.UtcNow;
        await using (var store = storeOptions.Open())
        {
            await store.MigrateAsync(CancellationToken.None);
            for (var start = 0; start < messages; start += 5_000)
            {
                var batch = Enumerable.Range(start, Math.Min(5_000, messages - start)).Select(i =>
                {
                    var json = "{\"type\":\"identify\",\"userId\":\"c" + i + "\",\"traits\":{\"email\":\"c" + i + "@example.com\",\"first_name\":\"Ada " + i + "\",\"locale\":\"en\",\"consent\":{\"email\":true}}}";
                    return new IncomingEvent($"id-{i}", EventType.Identify, null, $"c{i}", null, null, now, now,
                        [new Trait("email", $"\"c{i}@example.com\""), new Trait("first_name", $"\"Ada {i}\""), new Trait("locale", "\"en\""), new Trait("consent", """{"email":true}""")],
                        Encoding.UTF8.GetBytes(json));
                }).ToList();
                await store.AppendAsync(batch, TimeSpan.FromDays(1), CancellationToken.None);
            }

            await store.PutTemplateAsync(new StoredTemplate("layout", """{"kind":"layout","locales":{"en":{"html":"<html><body><h1>Shop</h1>{{ content }}</body></html>"}}}""", now), CancellationToken.None);
            await store.PutTemplateAsync(new StoredTemplate("footer", """{"kind":"partial","locales":{"en":{"body":"<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>"}}}""", now), CancellationToken.None);
            var cart = """{"layout":"layout","locales":{"en":{"subject":"{{ customer.first_name }}, your cart is waiting","html":HTML}}}""".Replace("HTML", System.Text.Json.JsonSerializer.Serialize(Html), StringComparison.Ordinal);
            await store.PutTemplateAsync(new StoredTemplate("cart", cart, now), CancellationToken.None);
            for (var i = 0; i < messages; i++)
                await store.EnqueueMessageAsync(new MessageIntent($"cart:{i}", $"c{i}", ChannelNames.Email, Topics.Marketing, "cart", """{"cart":{"total":1299,"items":[{"name":"Stroller","price":1299}]}}"""), DateTimeOffset.UtcNow, CancellationToken.None);
        }

        var options = new NudgeOptions
        {
            Store = storeOptions, Urls = "http://127.0.0.1:0", WriteKey = "bench", AdminKey = "bench", Console = TextWriter.Null,
            Delivery = new DeliverySettings
            {
                Email = new SmtpSettings { Host = "127.0.0.1", Port = sink.Port, From = "Shop <news@shop.example>", Connections = connections },
                // The run must not depend on the hour it is started at: no customer is in quiet hours.
                Policy = new PolicySettings { QuietStart = null },
                BatchSize = 2_000,
                Parallelism = Math.Max(connections, 8),
                Poll = TimeSpan.FromMilliseconds(20),
            },
        };
        await using var app = await NudgeApp.BuildAsync(options, b => b.Logging.ClearProviders());
        var before = sink.Received;
        // Delivery is held until the customer runtime has folded the profiles, so the figure is delivery's own.
        var held = await app.Services.GetRequiredService<DeliveryWorker>().PauseAsync(CancellationToken.None);
        await app.StartAsync();
        var store2 = app.Services.GetRequiredService<INudgeStore>();
        // The customer runtime folds the new profiles and, on a first start, sweeps every customer for
        // the default definitions: let it finish, so the figure is delivery's own.
        using (var caughtUp = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            await app.Services.GetRequiredService<Nudge.Runtime.Dispatch.LogDispatcher>().WaitForAsync(await store2.CountEventsAsync(CancellationToken.None), caughtUp.Token);
        await app.Services.GetRequiredService<Nudge.Runtime.Definitions.DefinitionSweep>().WhenFinishedAsync();
        if (sink.Received != before) throw new InvalidOperationException("Delivery started before the runtime settled.");
        held.Dispose();

        // Timed from the first message out to the last one in: start-up is not part of the rate.
        while (sink.Received == before) await Task.Delay(1);
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        while (sink.Received - before < messages) await Task.Delay(2);
        clock.Stop();
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;

        // Every one recorded as sent, exactly once.
        for (var i = 0; ; i++)
        {
            var counts = await store2.CountMessagesByStatusAsync(CancellationToken.None);
            if (counts.GetValueOrDefault(MessageStatus.Sent) == messages && sink.Received - before == messages) break;
            if (i == 500) throw new InvalidOperationException($"Not every message was recorded as sent once: {string.Join(", ", counts)}; the sink got {sink.Received - before:N0}");
            await Task.Delay(20);
        }

        await app.StopAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
        return ((messages - 1) / clock.Elapsed.TotalSeconds, used / clock.Elapsed / Environment.ProcessorCount);
    }

    private const string Html = """
        <p>Hello {{ customer.first_name }},</p>
        <p>You left {{ cart.items | size }} item(s) worth {{ cart.total | money }} in your cart.</p>
        <ul>{% for item in cart.items %}<li>{{ item.name }}: {{ item.price | money }}</li>{% endfor %}</ul>
        <p><a href="https://shop.example/cart">Back to your cart</a> · <a href="https://shop.example/sale">This week's sale</a></p>
        {% include 'footer' %}
        """;
}
