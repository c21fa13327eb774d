using System.Globalization;
using DotLiquid;

namespace Nudge.Engine.Messaging.Templates;

/// <summary>
/// Nudge's own Liquid filters. <c>money</c> formats an amount in a currency (the shop's by default);
/// <c>local_date</c> shows a time in the customer's time zone (<c>"now"</c> is the engine's clock).
/// </summary>
public static class TemplateFilters
{
    internal const string CurrencyKey = "nudge.currency";
    internal const string ZoneKey = "nudge.zone";
    internal const string NowKey = "nudge.now";

    private static readonly Dictionary<string, (string Symbol, int Decimals)> Currencies = new(StringComparer.OrdinalIgnoreCase)
    {
        ["CNY"] = ("¥", 2), ["USD"] = ("$", 2), ["EUR"] = ("€", 2), ["GBP"] = ("£", 2), ["JPY"] = ("¥", 0),
        ["HKD"] = ("HK$", 2), ["TWD"] = ("NT$", 0), ["KRW"] = ("₩", 0), ["SGD"] = ("S$", 2), ["AUD"] = ("A$", 2),
    };

    /// <summary><c>{{ order.total | money }}</c> → <c>¥1,299.00</c>; <c>{{ 20 | money: "USD" }}</c> → <c>$20.00</c>.</summary>
    public static string Money(Context context, object? input, string? currency = null)
    {
        var code = currency ?? context.Registers[CurrencyKey] as string ?? "CNY";
        if (!TryDecimal(input, out var amount)) return input?.ToString() ?? "";
        var (symbol, decimals) = Currencies.TryGetValue(code, out var known) ? known : (code.ToUpperInvariant() + " ", 2);
        var text = Math.Round(Math.Abs(amount), decimals, MidpointRounding.AwayFromZero).ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        return (amount < 0 ? "-" : "") + symbol + text;
    }

    /// <summary><c>{{ order.time | local_date: "yyyy-MM-dd HH:mm" }}</c>, in the customer's time zone (.NET format strings).</summary>
    public static string LocalDate(Context context, object? input, string format = "yyyy-MM-dd HH:mm")
    {
        DateTimeOffset? at = input switch
        {
            DateTimeOffset d => d,
            DateTime d => new DateTimeOffset(d.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(d, DateTimeKind.Utc) : d),
            string s when s.Equals("now", StringComparison.OrdinalIgnoreCase) || s.Equals("today", StringComparison.OrdinalIgnoreCase) => context.Registers[NowKey] as DateTimeOffset?,
            string s when DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d) => d,
            _ => null,
        };
        if (at is null) return input?.ToString() ?? "";
        var zone = context.Registers[ZoneKey] as TimeZoneInfo ?? TimeZoneInfo.Utc;
        try
        {
            return TimeZoneInfo.ConvertTime(at.Value, zone).ToString(format, CultureInfo.InvariantCulture);
        }
        catch (FormatException)
        {
            throw new TemplateRenderException($"local_date: '{format}' is not a date format such as \"yyyy-MM-dd HH:mm\".");
        }
    }

    private static bool TryDecimal(object? input, out decimal value)
    {
        switch (input)
        {
            case decimal d: value = d; return true;
            case int i: value = i; return true;
            case long l: value = l; return true;
            case double f: value = (decimal)f; return true;
            case string s: return decimal.TryParse(s, NumberStyles.Number, CultureInfo.InvariantCulture, out value);
            default: value = 0; return false;
        }
    }
}
