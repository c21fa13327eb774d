using Nudge.Engine.Messaging;

namespace Nudge.Engine.Tests.Messaging;

public class DeliveryPolicyTests
{
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
    private static readonly PolicySettings Settings = new() { Fallback = [ChannelNames.Email, ChannelNames.Sms, ChannelNames.Inbox] };

    // 12:00 in Shanghai: outside quiet hours.
    private static readonly DateTimeOffset Noon = new(2026, 11, 22, 4, 0, 0, TimeSpan.Zero);

    private static MessageIntent Intent(string channel = ChannelNames.Email, string topic = Topics.Marketing) => new("k1", "u1", channel, topic, "welcome");

    private static Recipient Customer(
        Dictionary<(string, string), bool>? consent = null, Dictionary<string, string>? suppressed = null, List<SentMessage>? recent = null,
        List<string>? engaged = null, Dictionary<string, string>? addresses = null) => new(
        "u1",
        addresses ?? new() { [ChannelNames.Email] = "a@example.com", [ChannelNames.Sms] = "+8613800000000", [ChannelNames.Inbox] = "u1" },
        Shanghai,
        consent ?? new() { [(ChannelNames.Email, Topics.Marketing)] = true, [(ChannelNames.Sms, Topics.Marketing)] = true },
        suppressed ?? [],
        engaged ?? [],
        recent ?? []);

    [Fact]
    public void marketing_without_consent_is_dropped_with_the_channel_named()
    {
        var d = DeliveryPolicy.Decide(Intent(), Customer(consent: []), Settings, Noon);
        Assert.Equal((PolicyOutcome.Drop, "no_consent:email"), (d.Outcome, d.Reason));
    }

    [Fact]
    public void withdrawn_consent_beats_implicit_consent()
    {
        var d = DeliveryPolicy.Decide(Intent(ChannelNames.Inbox), Customer(consent: new() { [(ChannelNames.Inbox, Topics.Marketing)] = false }), Settings, Noon);
        Assert.Equal("no_consent:inbox", d.Reason);
        Assert.Equal(PolicyOutcome.Send, DeliveryPolicy.Decide(Intent(ChannelNames.Inbox), Customer(consent: []), Settings, Noon).Outcome);
    }

    [Fact]
    public void transactional_needs_no_opt_in_but_respects_an_opt_out()
    {
        Assert.Equal(PolicyOutcome.Send, DeliveryPolicy.Decide(Intent(topic: Topics.Transactional), Customer(consent: []), Settings, Noon).Outcome);
        var optedOut = Customer(consent: new() { [(ChannelNames.Email, Topics.Transactional)] = false });
        Assert.Equal("no_consent:email", DeliveryPolicy.Decide(Intent(topic: Topics.Transactional), optedOut, Settings, Noon).Reason);
    }

    [Fact]
    public void a_suppressed_address_is_dropped_after_consent_is_checked()
    {
        var d = DeliveryPolicy.Decide(Intent(), Customer(suppressed: new() { [ChannelNames.Email] = "hard_bounce" }), Settings, Noon);
        Assert.Equal("suppressed:email:hard_bounce", d.Reason);
    }

    [Fact]
    public void a_customer_without_the_address_is_dropped()
    {
        var d = DeliveryPolicy.Decide(Intent(ChannelNames.Sms), Customer(addresses: new() { [ChannelNames.Email] = "a@example.com" }), Settings, Noon);
        Assert.Equal("no_address:sms", d.Reason);
    }

    [Fact]
    public void the_third_marketing_message_of_a_local_day_is_dropped()
    {
        List<SentMessage> two = [new(ChannelNames.Email, Noon.AddHours(-2)), new(ChannelNames.Sms, Noon.AddHours(-1))];
        Assert.Equal("daily_cap", DeliveryPolicy.Decide(Intent(), Customer(recent: two), Settings, Noon).Reason);
        Assert.Equal(PolicyOutcome.Send, DeliveryPolicy.Decide(Intent(topic: Topics.Transactional), Customer(recent: two), Settings, Noon).Outcome);
    }

    [Fact]
    public void days_are_the_customers_calendar_days_not_utc_days()
    {
        // 2026-11-21 17:00 UTC is 01:00 on the 22nd in Shanghai, the same local day as Noon; 15:00 UTC is the 21st there.
        List<SentMessage> sameLocalDay = [new(ChannelNames.Email, new(2026, 11, 21, 17, 0, 0, TimeSpan.Zero)), new(ChannelNames.Email, Noon.AddHours(-1))];
        List<SentMessage> previousLocalDay = [new(ChannelNames.Email, new(2026, 11, 21, 15, 0, 0, TimeSpan.Zero)), new(ChannelNames.Email, Noon.AddHours(-1))];
        Assert.Equal("daily_cap", DeliveryPolicy.Decide(Intent(), Customer(recent: sameLocalDay), Settings, Noon).Reason);
        Assert.Equal(PolicyOutcome.Send, DeliveryPolicy.Decide(Intent(), Customer(recent: previousLocalDay), Settings, Noon).Outcome);
    }

    [Fact]
    public void the_sixth_marketing_message_in_seven_local_days_is_dropped()
    {
        List<SentMessage> five = [.. Enumerable.Range(1, 5).Select(d => new SentMessage(ChannelNames.Email, Noon.AddDays(-d)))];
        Assert.Equal("weekly_cap", DeliveryPolicy.Decide(Intent(), Customer(recent: five), Settings, Noon).Reason);
        List<SentMessage> fiveButOneTooOld = [.. Enumerable.Range(3, 5).Select(d => new SentMessage(ChannelNames.Email, Noon.AddDays(-d)))];
        Assert.Equal(PolicyOutcome.Send, DeliveryPolicy.Decide(Intent(), Customer(recent: fiveButOneTooOld), Settings, Noon).Outcome);
    }

    [Fact]
    public void a_channel_cap_moves_best_channel_to_the_next_channel_but_drops_an_explicit_one()
    {
        var settings = Settings with { ChannelCaps = new Dictionary<string, ChannelCap> { [ChannelNames.Email] = new(1, null) } };
        List<SentMessage> one = [new(ChannelNames.Email, Noon.AddHours(-1))];
        Assert.Equal("channel_daily_cap:email", DeliveryPolicy.Decide(Intent(), Customer(recent: one), settings, Noon).Reason);
        var best = DeliveryPolicy.Decide(Intent(ChannelNames.Best), Customer(recent: one), settings, Noon);
        Assert.Equal((PolicyOutcome.Send, ChannelNames.Sms), (best.Outcome, best.Channel));
    }

    [Theory]
    [InlineData(13, 30, 2026, 11, 23, 0)] // 21:30 local → 08:00 local next day = 00:00 UTC on the 23rd
    [InlineData(22, 0, 2026, 11, 23, 0)] // 06:00 local on the 23rd → 08:00 local the same day
    public void quiet_hours_defer_marketing_to_the_end_of_the_window(int utcHour, int utcMinute, int year, int month, int day, int endUtcHour)
    {
        var at = new DateTimeOffset(2026, 11, 22, utcHour, utcMinute, 0, TimeSpan.Zero);
        var d = DeliveryPolicy.Decide(Intent(), Customer(), Settings, at);
        Assert.Equal((PolicyOutcome.Defer, "quiet_hours"), (d.Outcome, d.Reason));
        Assert.Equal(new DateTimeOffset(year, month, day, endUtcHour, 0, 0, TimeSpan.Zero), d.DeferUntil);
        Assert.Equal(PolicyOutcome.Send, DeliveryPolicy.Decide(Intent(topic: Topics.Transactional), Customer(), Settings, at).Outcome);
    }

    [Fact]
    public void quiet_hours_end_at_the_local_time_across_a_daylight_saving_change()
    {
        // New York leaves DST on 2026-11-01: 21:30 EDT on Oct 31 → 08:00 EST on Nov 1 = 13:00 UTC.
        var newYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        var until = DeliveryPolicy.QuietUntil(new DateTimeOffset(2026, 11, 1, 1, 30, 0, TimeSpan.Zero), newYork, Settings);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 13, 0, 0, TimeSpan.Zero), until);
    }

    [Fact]
    public void best_channel_prefers_the_most_engaged_reachable_channel_then_the_fallback_order()
    {
        var engagedWithSms = DeliveryPolicy.Decide(Intent(ChannelNames.Best), Customer(engaged: [ChannelNames.Sms, ChannelNames.Email]), Settings, Noon);
        Assert.Equal(ChannelNames.Sms, engagedWithSms.Channel);
        var smsWithdrawn = Customer(engaged: [ChannelNames.Sms], consent: new() { [(ChannelNames.Email, Topics.Marketing)] = true, [(ChannelNames.Sms, Topics.Marketing)] = false });
        Assert.Equal(ChannelNames.Email, DeliveryPolicy.Decide(Intent(ChannelNames.Best), smsWithdrawn, Settings, Noon).Channel);
        var nothing = DeliveryPolicy.Decide(Intent(ChannelNames.Best), Customer(consent: new() { [(ChannelNames.Inbox, Topics.Marketing)] = false }), Settings, Noon);
        Assert.Equal(PolicyOutcome.Drop, nothing.Outcome);
        Assert.StartsWith("no_reachable_channel (no_consent:email", nothing.Reason);
    }

    [Fact]
    public void consent_is_checked_before_caps_so_the_recorded_reason_is_the_first_rule_that_fails()
    {
        List<SentMessage> two = [new(ChannelNames.Email, Noon.AddHours(-2)), new(ChannelNames.Email, Noon.AddHours(-1))];
        Assert.Equal("no_consent:email", DeliveryPolicy.Decide(Intent(), Customer(consent: [], recent: two), Settings, Noon).Reason);
    }
}
