using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Nudge.Engine.Coupons;

/// <summary>
/// A coupon campaign: what a code is worth, where codes come from, how long they last and how many a
/// customer may get. Examples: 满200减50 (threshold 200, amount 50), 10% off, ¥20 off.
/// </summary>
/// <param name="Id">Letters, digits, <c>_</c> and <c>-</c>.</param>
/// <param name="Name">Shown to operators.</param>
/// <param name="Kind"><c>amount</c> (money off), <c>percent</c> (percent off) or <c>threshold</c> (money off an order of at least <paramref name="Threshold"/>, 满减).</param>
/// <param name="Value">The amount or the percentage.</param>
/// <param name="Threshold">For <c>threshold</c>: the order total from which it applies.</param>
/// <param name="Source"><c>generated</c> (unique codes made when issued) or <c>pool</c> (imported codes handed out one by one).</param>
/// <param name="Prefix">Generated codes start with it.</param>
/// <param name="ValidUntil">An absolute end, or null.</param>
/// <param name="ValidDays">Days from issue, or null; with both, the earlier end wins.</param>
/// <param name="PerCustomer">Codes one customer may be issued from this campaign.</param>
public sealed partial record CouponCampaign(
    string Id, string Name, string Kind, decimal Value, decimal? Threshold, string Source, string Prefix, DateTimeOffset? ValidUntil, int? ValidDays, int PerCustomer)
{
    /// <summary>When a code issued at <paramref name="issuedAt"/> expires, or null for never.</summary>
    public DateTimeOffset? ExpiresAt(DateTimeOffset issuedAt)
    {
        DateTimeOffset? byDays = ValidDays is { } d ? issuedAt.AddDays(d) : null;
        if (byDays is null) return ValidUntil;
        if (ValidUntil is null) return byDays;
        return byDays < ValidUntil ? byDays : ValidUntil;
    }

    /// <summary>What it is worth in words, e.g. <c>满200减50</c> / <c>10% off</c> / <c>50 off</c>.</summary>
    public string Describe(string locale)
    {
        var zh = locale.StartsWith("zh", StringComparison.OrdinalIgnoreCase);
        var v = Value.ToString("0.##", CultureInfo.InvariantCulture);
        return Kind switch
        {
            "threshold" => zh ? $"满{Threshold?.ToString("0.##", CultureInfo.InvariantCulture)}减{v}" : $"{v} off orders of {Threshold?.ToString("0.##", CultureInfo.InvariantCulture)} or more",
            "percent" => zh ? $"{(100 - Value) / 10:0.#}折" : $"{v}% off",
            _ => zh ? $"立减{v}" : $"{v} off",
        };
    }

    /// <summary>What a code takes off an order of <paramref name="total"/>: nothing when a threshold is not met.</summary>
    /// <param name="total">The order's value before the discount.</param>
    public decimal DiscountOn(decimal total) => Kind switch
    {
        "threshold" => total >= (Threshold ?? 0) ? Math.Min(Value, total) : 0,
        "percent" => Math.Round(total * Value / 100, 2),
        _ => Math.Min(Value, total),
    };

    /// <summary>A new unique code: the prefix and 10 characters from an alphabet without look-alikes (no 0/O, 1/I/L).</summary>
    public string NewCode()
    {
        const string alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
        Span<char> chars = stackalloc char[10];
        for (var i = 0; i < chars.Length; i++) chars[i] = alphabet[System.Security.Cryptography.RandomNumberGenerator.GetInt32(alphabet.Length)];
        return Prefix + new string(chars);
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();

    /// <summary>Reads a campaign document, naming every problem by its path.</summary>
    public static (CouponCampaign? Campaign, List<string> Errors) Parse(JsonElement e, string id)
    {
        List<string> errors = [];
        if (e.ValueKind != JsonValueKind.Object) return (null, ["$: must be a JSON object"]);
        if (!IdPattern().IsMatch(id)) errors.Add("id: must be 1-64 letters, digits, '_' or '-'");
        string? Text(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        decimal? Number(string name)
        {
            if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind == JsonValueKind.Number && v.TryGetDecimal(out var d) && d > 0) return d;
            errors.Add($"{name}: must be a positive number");
            return null;
        }

        var kind = Text("kind") ?? "amount";
        if (kind is not ("amount" or "percent" or "threshold")) errors.Add("kind: must be amount, percent or threshold");
        var value = Number("value");
        if (value is null && !e.TryGetProperty("value", out _)) errors.Add("value: is required");
        if (kind == "percent" && value > 100) errors.Add("value: a percentage must be at most 100");
        var threshold = Number("threshold");
        if (kind == "threshold" && threshold is null) errors.Add("threshold: is required for a threshold (满减) coupon");
        var source = Text("source") ?? "generated";
        if (source is not ("generated" or "pool")) errors.Add("source: must be generated or pool");
        DateTimeOffset? until = null;
        if (Text("validUntil") is { } u)
        {
            if (DateTimeOffset.TryParse(u, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)) until = parsed;
            else errors.Add("validUntil: must be an ISO-8601 date-time");
        }

        var days = e.TryGetProperty("validDays", out var dv) && dv.ValueKind == JsonValueKind.Number && dv.TryGetInt32(out var n) && n > 0 ? n : (int?)null;
        if (e.TryGetProperty("validDays", out _) && days is null) errors.Add("validDays: must be a positive whole number");
        var perCustomer = e.TryGetProperty("perCustomer", out var pc) ? (pc.ValueKind == JsonValueKind.Number && pc.TryGetInt32(out var p) && p > 0 ? p : -1) : 1;
        if (perCustomer < 1) errors.Add("perCustomer: must be a positive whole number");
        if (errors.Count > 0) return (null, errors);
        return (new CouponCampaign(id, Text("name") ?? id, kind, value!.Value, threshold, source, Text("prefix") ?? "", until, days, perCustomer), errors);
    }
}
