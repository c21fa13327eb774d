using System.Globalization;
using Spectre.Console;

namespace Nudge.Cli.Demo;

internal sealed partial record DemoReport
{
    /// <summary>The report as tables: per journey, per channel, held by policy, RFM and lifecycle.</summary>
    public void Render(IAnsiConsole console)
    {
        console.Write(new Rule($"[bold]Nudge demo: {Customers:N0} customers, {Days} days ({From:yyyy-MM-dd} to {Until:yyyy-MM-dd})[/]").LeftJustified());
        console.MarkupLine(CultureInfo.InvariantCulture, "{0:N0} events · {1:N0} orders · revenue ¥{2:N2} · {3:N0} messages sent", Events, Orders, Revenue, Sent);
        console.WriteLine();

        // A column per channel that carried anything, in the order of the channel table.
        var used = Channels.Select(c => c.Channel).ToList();
        var journeys = new Table().Title("Journeys").AddColumns(["Journey", "Entered", .. used, "Opened", "Clicked", "Orders", "Revenue", "Coupon cost"]);
        foreach (var j in Journeys)
            journeys.AddRow([Markup.Escape(j.Journey), N(j.Entered), .. used.Select(c => N(j.Sent.GetValueOrDefault(c))), N(j.Opened), N(j.Clicked), N(j.Orders), Money(j.Revenue), Money(j.CouponCost)]);

        RightAlign(journeys, [.. Enumerable.Range(1, journeys.Columns.Count - 1)]);
        console.Write(journeys);
        console.MarkupLine("[grey]An order counts for a journey when it used the journey's coupon, or else followed a click on the journey's message within 3 days.[/]");
        console.WriteLine();

        var channels = new Table().Title("Channels").AddColumns("Channel", "Sent", "Opened", "Clicked", "Unsubscribed");
        foreach (var c in Channels) channels.AddRow(c.Channel, N(c.Sent), N(c.Opened), N(c.Clicked), N(c.Unsubscribed));
        RightAlign(channels, 1, 2, 3, 4);
        console.Write(channels);
        console.WriteLine();

        var held = new Table().Title("Held by the delivery policy").AddColumns("Reason", "Messages");
        foreach (var (reason, count) in Held) held.AddRow(Markup.Escape(reason), N(count));
        RightAlign(held, 1);
        console.Write(held);
        console.WriteLine();

        var customers = new Table().Title("Customers at the end").AddColumns("RFM segment", "Customers", "Lifecycle stage", "Customers");
        for (var i = 0; i < Math.Max(Rfm.Count, Stages.Count); i++)
        {
            customers.AddRow(i < Rfm.Count ? Markup.Escape(Rfm[i].Key) : "", i < Rfm.Count ? N(Rfm[i].Value) : "",
                i < Stages.Count ? Markup.Escape(Stages[i].Key) : "", i < Stages.Count ? N(Stages[i].Value) : "");
        }

        RightAlign(customers, 1, 3);
        console.Write(customers);
    }

    /// <summary>The report as plain text (no colours): what the same seed must reproduce.</summary>
    public string ToText()
    {
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(writer) });
        console.Profile.Width = 160;
        Render(console);
        return writer.ToString();
    }

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Money(decimal amount) => amount == 0 ? "-" : "¥" + amount.ToString("N2", CultureInfo.InvariantCulture);

    private static void RightAlign(Table table, params int[] columns)
    {
        foreach (var c in columns) table.Columns[c].RightAligned();
    }
}
