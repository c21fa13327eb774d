using Microsoft.Extensions.DependencyInjection;
using Nudge.Cli.Demo;
using Nudge.Engine.Messaging;
using Nudge.Runtime.Journeys;
using Nudge.Storage;

namespace Nudge.Cli.Tests.Demo;

/// <summary>A short demo run (500 customers, 14 days) through the whole engine, kept for the checks below.</summary>
public sealed class DemoRunFixture : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nudge-demo-").FullName;

    internal DemoRun Run { get; private set; } = null!;

    internal DemoReport Report { get; private set; } = null!;

    internal DemoSettings Settings { get; private set; } = null!;

    /// <summary>Every message the store holds.</summary>
    internal List<MessageRecord> Messages { get; } = [];

    public async Task InitializeAsync()
    {
        Settings = new DemoSettings(500, 14, 7, Path.Combine(_directory, "data"), "http://127.0.0.1:0", new DateOnly(2026, 11, 20));
        Run = await DemoRun.StartAsync(Settings, CancellationToken.None);
        await Run.RunAsync(_ => { }, CancellationToken.None);
        Report = await DemoReport.ComputeAsync(Run.Store, Run.Services.GetRequiredService<JourneyRegistry>().Current, Settings.Customers, Settings.Start, Settings.End, CancellationToken.None);
        for (long? before = null; ;)
        {
            var page = await Run.Store.ListMessagesAsync(null, null, before, 1000, CancellationToken.None);
            if (page.Count == 0) break;
            Messages.AddRange(page);
            before = page[^1].Id;
        }
    }

    public async Task DisposeAsync()
    {
        await Run.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}

public sealed class DemoTests(DemoRunFixture demo) : IClassFixture<DemoRunFixture>
{
    private List<MessageRecord> Sent => [.. demo.Messages.Where(m => m.Status == MessageStatus.Sent)];

    [Fact]
    public void the_report_counts_every_delivery_recorded_and_every_message_the_mail_server_and_providers_received()
    {
        var recorded = Sent.GroupBy(m => m.Channel!).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(recorded.Values.Sum(), demo.Report.Sent);
        Assert.Equal(recorded, demo.Report.Channels.ToDictionary(c => c.Channel, c => c.Sent));
        Assert.Equal(recorded.GetValueOrDefault(ChannelNames.Email), demo.Run.Mail.Received);
        foreach (var provider in new[] { ChannelNames.Sms, ChannelNames.WeCom, ChannelNames.DingTalk })
            Assert.Equal(recorded.GetValueOrDefault(provider), demo.Run.Providers.Counts.GetValueOrDefault(provider));
        // Every journey's messages by channel add up to the channel's (the rest are none here: no API sends).
        Assert.Equal(recorded, demo.Report.Journeys.SelectMany(j => j.Sent).GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Sum(s => s.Value)));
    }

    [Fact]
    public async Task inbox_messages_in_the_report_are_the_ones_in_customers_inboxes()
    {
        long inbox = 0;
        foreach (var shopper in demo.Run.Shoppers)
            inbox += (await demo.Run.Store.ListInboxAsync(shopper.Id, null, unreadOnly: false, 500, CancellationToken.None)).Count;
        Assert.True(inbox > 0);
        Assert.Equal(demo.Report.Channels.Single(c => c.Channel == ChannelNames.Inbox).Sent, inbox);
    }

    [Fact]
    public void no_customer_gets_more_than_2_marketing_messages_a_day_or_5_a_week_in_their_own_time_zone()
    {
        var shoppers = demo.Run.Shoppers.ToDictionary(s => s.Id);
        foreach (var customer in Sent.Where(m => m.Intent.Topic == Topics.Marketing).GroupBy(m => m.Intent.CustomerId))
        {
            var zone = TimeZoneInfo.FindSystemTimeZoneById(shoppers[customer.Key].TimeZone);
            var days = customer.Select(m => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(m.SentAt!.Value, zone).DateTime)).ToList();
            foreach (var day in days.Distinct())
            {
                Assert.True(days.Count(d => d == day) <= 2, $"{customer.Key} got {days.Count(d => d == day)} marketing messages on {day}");
                Assert.True(days.Count(d => d > day.AddDays(-7) && d <= day) <= 5, $"{customer.Key} got more than 5 marketing messages in the 7 days to {day}");
            }
        }

        // The caps did bind: the policy held some back, with the reason.
        Assert.Contains(demo.Report.Held, h => h.Key is "daily_cap" or "weekly_cap");
    }

    [Fact]
    public async Task no_marketing_message_reaches_a_customer_without_consent_for_its_channel_at_the_time()
    {
        foreach (var message in Sent.Where(m => m.Intent.Topic == Topics.Marketing))
        {
            var ledger = await demo.Run.Store.ConsentLedgerAsync(message.Intent.CustomerId, CancellationToken.None);
            var latest = ledger.Where(c => c.Channel == message.Channel && c.Topic == Topics.Marketing && c.At <= message.SentAt).MaxBy(c => c.At);
            // The inbox counts as opted in until the customer opts out; every other channel needs an opt-in.
            var consented = latest?.Granted ?? message.Channel == ChannelNames.Inbox;
            Assert.True(consented, $"message {message.Id} went by {message.Channel} to {message.Intent.CustomerId} without consent");
        }

        // Customers without consent were there, and were skipped with the reason recorded.
        Assert.Contains(demo.Run.Shoppers, s => !s.EmailConsent && s.Email is not null);
    }

    [Fact]
    public void the_shop_lives_customers_sign_up_abandon_carts_buy_open_click_and_some_unsubscribe()
    {
        var journeys = demo.Report.Journeys.ToDictionary(j => j.Journey);
        foreach (var id in new[] { "welcome", "abandoned-cart", "browse-abandonment", "post-purchase", "winback", "big-promotion" })
            Assert.True(journeys[id].Entered > 0 && journeys[id].Sent.Values.Sum() > 0, $"{id}: entered {journeys[id].Entered}");
        var email = demo.Report.Channels.Single(c => c.Channel == ChannelNames.Email);
        Assert.InRange(email.Opened, 1, email.Sent);
        Assert.InRange(email.Clicked, 1, email.Opened);
        Assert.True(demo.Report.Orders > 0 && demo.Report.Revenue > 0);
        // Orders credited to journeys are orders of the run, and the coupon cost is what those orders saved.
        Assert.InRange(demo.Report.Journeys.Sum(j => j.Orders), 1, demo.Report.Orders);
        Assert.True(demo.Report.Journeys.Sum(j => j.CouponCost) > 0);
        Assert.NotEmpty(demo.Report.Rfm);
        Assert.Equal(demo.Settings.Customers, demo.Report.Stages.Sum(s => s.Value));
    }

    [Fact]
    public async Task the_same_seed_gives_the_same_report()
    {
        async Task<string> RunAsync(string directory)
        {
            var settings = new DemoSettings(120, 3, 11, directory, "http://127.0.0.1:0", new DateOnly(2026, 11, 20));
            await using var run = await DemoRun.StartAsync(settings, CancellationToken.None);
            await run.RunAsync(_ => { }, CancellationToken.None);
            var report = await DemoReport.ComputeAsync(run.Store, run.Services.GetRequiredService<JourneyRegistry>().Current, settings.Customers, settings.Start, settings.End, CancellationToken.None);
            return report.ToText();
        }

        var root = Directory.CreateTempSubdirectory("nudge-demo-seed-").FullName;
        try
        {
            var first = await RunAsync(Path.Combine(root, "a"));
            Assert.Equal(first, await RunAsync(Path.Combine(root, "b")));
            Assert.Contains("messages sent", first);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task a_folder_that_already_holds_a_store_is_refused_and_left_as_it_is()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => DemoRun.StartAsync(demo.Settings, CancellationToken.None));
        Assert.Contains("already holds a Nudge store", error.Message);
    }
}
