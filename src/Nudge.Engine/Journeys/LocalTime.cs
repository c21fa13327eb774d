using System.Collections.Concurrent;
using Nudge.Engine.Customers;
using Nudge.Engine.Segments;

namespace Nudge.Engine.Journeys;

/// <summary>Times of day and dates in the customer's own time zone, correct across daylight-saving changes.</summary>
public static class LocalTime
{
    /// <summary>The customer's time zone: the <c>timezone</c> trait (an IANA id such as Asia/Shanghai), else the fallback.</summary>
    public static TimeZoneInfo ZoneOf(CustomerState customer, TimeZoneInfo fallback) =>
        Zone(customer.Traits.TryGetValue("timezone", out var tz) ? Traits.Text(tz.JsonValue) : null, fallback);

    /// <summary>A time zone by its IANA id (e.g. Asia/Shanghai); the fallback when the id is missing or unknown.</summary>
    public static TimeZoneInfo Zone(string? id, TimeZoneInfo fallback)
    {
        if (id is null) return fallback;
        // TimeZoneInfo's own lookup takes a process-wide lock on every call; customers' steps ask for
        // their zone all the time, on every core. Ids come from customers' traits: the cache stays bounded.
        if (!Zones.TryGetValue(id, out var zone))
        {
            zone = TimeZoneInfo.TryFindSystemTimeZoneById(id, out var found) ? found : null;
            // Counted apart: ConcurrentDictionary.Count takes every lock of the table.
            if (Volatile.Read(ref _cachedZones) < MaxCachedZones && Zones.TryAdd(id, zone)) Interlocked.Increment(ref _cachedZones);
        }

        return zone ?? fallback;
    }

    private const int MaxCachedZones = 2_000;
    private static int _cachedZones;
    private static readonly ConcurrentDictionary<string, TimeZoneInfo?> Zones = new(StringComparer.Ordinal);

    /// <summary>The first moment strictly after <paramref name="after"/> when the local clock shows <paramref name="time"/>.</summary>
    public static DateTimeOffset NextTimeOfDay(DateTimeOffset after, TimeOfDay time, TimeZoneInfo zone)
    {
        var day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(after, zone).DateTime);
        for (var i = 0; i < 3; i++)
        {
            var at = At(day.AddDays(i), time, zone);
            if (at > after) return at;
        }

        return At(day.AddDays(3), time, zone);
    }

    /// <summary>The instant of a local date and time; a time skipped by a daylight-saving jump moves forward past the gap.</summary>
    public static DateTimeOffset At(DateOnly date, TimeOfDay time, TimeZoneInfo zone)
    {
        var local = date.ToDateTime(new TimeOnly(time.Hour, time.Minute));
        while (zone.IsInvalidTime(local)) local = local.AddMinutes(30);
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    /// <summary>
    /// The occurrences of a customer date around <paramref name="now"/>: the latest at or before it and
    /// the first after it (null when there is none, e.g. no birthday trait).
    /// </summary>
    public static (DateTimeOffset? Last, DateTimeOffset? Next) Occurrences(DateSource source, CustomerState customer, TimeZoneInfo zone, DateTimeOffset now)
    {
        if (source.NextOrder)
        {
            var orders = customer.Stats.Orders;
            if (orders.LastAt is not { } last || orders.AverageDaysBetweenOrders is not { } cycle) return (null, null);
            var expected = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(last.AddDays(cycle), zone).DateTime).AddDays(source.OffsetDays);
            var at = At(expected, source.At, zone);
            return at <= now ? (at, null) : (null, at);
        }

        if (source.Trait is null || !customer.Traits.TryGetValue(source.Trait, out var trait) || Traits.Date(trait.JsonValue) is not { } date) return (null, null);
        if (!source.Yearly)
        {
            var at = At(DateOnly.FromDateTime(date.UtcDateTime).AddDays(source.OffsetDays), source.At, zone);
            return at <= now ? (at, null) : (null, at);
        }

        // Yearly: an offset can move an occurrence into the next or previous calendar year, so the
        // neighbouring years' occurrences are candidates too.
        var year = TimeZoneInfo.ConvertTime(now, zone).Year;
        DateTimeOffset? latest = null, upcoming = null;
        for (var y = year - 2; y <= year + 2; y++)
        {
            var at = Yearly(date, y, source, zone);
            if (at <= now) latest = at;
            else upcoming ??= at;
        }

        return (latest, upcoming);
    }

    // 29 February falls on 28 February in common years.
    private static DateTimeOffset Yearly(DateTimeOffset date, int year, DateSource source, TimeZoneInfo zone) =>
        At(new DateOnly(year, date.Month, Math.Min(date.Day, DateTime.DaysInMonth(year, date.Month))).AddDays(source.OffsetDays), source.At, zone);
}
