namespace Nudge.Engine.Messaging;

/// <summary>
/// Decides, for one message and what is known of its customer, whether it goes out now, later or
/// never, in the documented order: consent, suppression, frequency caps, quiet hours, channel choice.
/// Pure: the same inputs give the same decision. Cross-channel dedupe is the outbox's idempotency key.
/// </summary>
public static class DeliveryPolicy
{
    /// <summary>Decides on <paramref name="intent"/> at <paramref name="now"/>.</summary>
    public static PolicyDecision Decide(MessageIntent intent, Recipient recipient, PolicySettings settings, DateTimeOffset now)
    {
        var marketing = intent.Topic == Topics.Marketing;
        var candidates = Candidates(intent.Channel, recipient, settings);

        // 1–2. Consent and suppression (and an address at all), per candidate channel.
        List<(string Channel, string Address)> reachable = [];
        string? firstRefusal = null;
        foreach (var channel in candidates)
        {
            var refusal = Unreachable(channel, intent.Topic, recipient, settings, out var address);
            if (refusal is null) reachable.Add((channel, address!));
            else firstRefusal ??= refusal;
        }

        if (reachable.Count == 0)
            return Drop(intent.Channel == ChannelNames.Best ? $"no_reachable_channel ({firstRefusal ?? "no channels"})" : firstRefusal!);

        var local = TimeZoneInfo.ConvertTime(now, recipient.TimeZone);
        if (marketing)
        {
            // 3. Frequency caps in the customer's calendar days: all channels together, then the channel's own.
            var today = DateOnly.FromDateTime(local.DateTime);
            var (day, week) = Count(recipient.RecentMarketing, recipient.TimeZone, today, channel: null);
            if (day >= settings.DailyCap) return Drop("daily_cap");
            if (week >= settings.WeeklyCap) return Drop("weekly_cap");

            string? channelCapped = null;
            reachable = [.. reachable.Where(r =>
            {
                if (!settings.ChannelCaps.TryGetValue(r.Channel, out var cap)) return true;
                var (channelDay, channelWeek) = Count(recipient.RecentMarketing, recipient.TimeZone, today, r.Channel);
                if (cap.Daily is { } d && channelDay >= d) { channelCapped ??= $"channel_daily_cap:{r.Channel}"; return false; }
                if (cap.Weekly is { } w && channelWeek >= w) { channelCapped ??= $"channel_weekly_cap:{r.Channel}"; return false; }
                return true;
            })];
            if (reachable.Count == 0) return Drop(channelCapped!);
        }

        // 5. The first reachable candidate is the channel: the step's own, or the most engaged.
        var (chosen, to) = reachable[0];

        // 4. Quiet hours defer marketing to the end of the window; transactional mail is never held.
        if (marketing && QuietUntil(now, recipient.TimeZone, settings) is { } end)
            return new PolicyDecision(PolicyOutcome.Defer, chosen, to, "quiet_hours", end);

        return new PolicyDecision(PolicyOutcome.Send, chosen, to, null);
    }

    /// <summary>When the quiet hours around <paramref name="now"/> end in <paramref name="zone"/>, or null outside them.</summary>
    public static DateTimeOffset? QuietUntil(DateTimeOffset now, TimeZoneInfo zone, PolicySettings settings)
    {
        if (settings.QuietStart is not { } start) return null;
        var end = settings.QuietEnd;
        var local = TimeZoneInfo.ConvertTime(now, zone).DateTime;
        var time = TimeOnly.FromDateTime(local);
        var overnight = start > end;
        var quiet = overnight ? time >= start || time < end : time >= start && time < end;
        if (!quiet) return null;

        var date = DateOnly.FromDateTime(local);
        if (time >= end) date = date.AddDays(1); // before midnight in an overnight window: it ends tomorrow
        var endLocal = date.ToDateTime(end);
        // A time skipped by a DST change does not exist: the window then ends when the clock resumes.
        while (zone.IsInvalidTime(endLocal)) endLocal = endLocal.AddMinutes(30);
        return new DateTimeOffset(endLocal, zone.GetUtcOffset(endLocal)).ToUniversalTime();
    }

    private static List<string> Candidates(string requested, Recipient recipient, PolicySettings settings)
    {
        if (requested != ChannelNames.Best) return [requested];
        List<string> order = [.. recipient.EngagedChannels.Where(ChannelNames.IsChannel)];
        foreach (var channel in settings.Fallback)
            if (!order.Contains(channel)) order.Add(channel);
        return order;
    }

    private static string? Unreachable(string channel, string topic, Recipient recipient, PolicySettings settings, out string? address)
    {
        address = null;
        var consented = recipient.Consent.TryGetValue((channel, topic), out var given)
            ? given
            : topic == Topics.Transactional || settings.ImplicitConsent.Contains(channel);
        if (!consented) return $"no_consent:{channel}";
        if (recipient.Suppressed.TryGetValue(channel, out var why)) return $"suppressed:{channel}:{why}";
        if (!recipient.Addresses.TryGetValue(channel, out address)) return $"no_address:{channel}";
        return null;
    }

    private static (int Day, int Week) Count(IReadOnlyList<SentMessage> sent, TimeZoneInfo zone, DateOnly today, string? channel)
    {
        int day = 0, week = 0;
        var weekStart = today.AddDays(-6);
        foreach (var m in sent)
        {
            if (channel is not null && m.Channel != channel) continue;
            var date = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(m.At, zone).DateTime);
            if (date == today) day++;
            if (date >= weekStart && date <= today) week++;
        }

        return (day, week);
    }

    private static PolicyDecision Drop(string reason) => new(PolicyOutcome.Drop, null, null, reason);
}
