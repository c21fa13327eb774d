using System.Globalization;
using System.Text.Json;

namespace Nudge.Engine.Segments;

/// <summary>Reading raw JSON trait values as text, numbers and dates.</summary>
public static class Traits
{
    /// <summary>A scalar trait as text: strings unquoted, numbers and booleans as written; null for objects, arrays and null.</summary>
    public static string? Text(string json)
    {
        if (json.Length >= 2 && json[0] == '"' && json.IndexOf('\\', StringComparison.Ordinal) < 0) return json[1..^1];
        if (json.Length == 0 || json[0] is '{' or '[' || json == "null") return null;
        if (json[0] != '"') return json;
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetString();
    }

    /// <summary>A trait as a number: a JSON number or a numeric string.</summary>
    public static double? Number(string json) =>
        Text(json) is { } text && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    /// <summary>A trait as a date: ISO 8601 (a date, or a date and time); midnight UTC for a bare date.</summary>
    public static DateTimeOffset? Date(string json) =>
        Text(json) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at : null;
}
