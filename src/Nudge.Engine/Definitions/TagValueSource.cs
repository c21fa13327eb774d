using System.Globalization;
using System.Text.Json;
using Nudge.Engine.Customers;
using Nudge.Engine.Segments;

namespace Nudge.Engine.Definitions;

/// <summary>
/// Where a valued tag's value comes from: the first present of some traits (dotted paths reach into
/// objects, e.g. address.city), or a stat — numeric stats cut into labelled bands.
/// </summary>
/// <param name="TraitPaths">Traits to try in order; empty when the value is a stat.</param>
/// <param name="Stat">The stat, when not traits.</param>
/// <param name="Bands">Ascending band edges for numeric stats: a value below Bands[i] gets Labels[i], at or above the last gets the last label.</param>
/// <param name="Labels">One more label than edges.</param>
public sealed record TagValueSource(IReadOnlyList<string> TraitPaths, StatField? Stat, IReadOnlyList<double> Bands, IReadOnlyList<string> Labels)
{
    /// <summary>The parts of a customer's state the value is computed from.</summary>
    public StateParts Reads => Stat?.Reads ?? StateParts.Traits;

    /// <summary>The value now, or null when the customer has none.</summary>
    public string? Evaluate(CustomerState customer, Evaluation evaluation)
    {
        if (Stat is null)
        {
            // A loop, not LINQ: tags are evaluated for every customer change.
            for (var p = 0; p < TraitPaths.Count; p++)
                if (Trait(customer, TraitPaths[p]) is { } trait) return trait;
            return null;
        }

        if (Stat.IsText) return StatFields.Text(customer, Stat.Name);
        if (Stat.Clock is StatClock.DaysSince or StatClock.HoursSince && StatFields.Since(customer, Stat.Name) is { } since)
        {
            var unit = Stat.Clock == StatClock.DaysSince ? TimeSpan.FromDays(1) : TimeSpan.FromHours(1);
            for (var b = 0; b < Bands.Count; b++) evaluation.ChangesAt(since + (unit * Bands[b]));
        }

        if (StatFields.Number(customer, Stat.Name, evaluation, null) is not { } value) return null;
        if (Bands.Count == 0) return value.ToString(CultureInfo.InvariantCulture);
        var i = 0;
        while (i < Bands.Count && value >= Bands[i]) i++;
        return Labels[i];
    }

    private static string? Trait(CustomerState customer, string path)
    {
        var dot = path.IndexOf('.', StringComparison.Ordinal);
        var name = dot < 0 ? path : path[..dot];
        if (!customer.Traits.TryGetValue(name, out var trait)) return null;
        if (dot < 0) return Traits.Text(trait.JsonValue) is { Length: > 0 } text ? text : null;
        using var doc = JsonDocument.Parse(trait.JsonValue);
        var e = doc.RootElement;
        foreach (var part in path[(dot + 1)..].Split('.'))
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(part, out e)) return null;
        }

        return EventTracker.Text(e) is { Length: > 0 } value ? value : null;
    }
}
