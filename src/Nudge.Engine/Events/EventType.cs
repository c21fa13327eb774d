namespace Nudge.Engine.Events;

/// <summary>The Segment message types Nudge accepts.</summary>
public enum EventType
{
    /// <summary>Who the customer is: traits.</summary>
    Identify,
    /// <summary>What the customer did: a named event with properties.</summary>
    Track,
    /// <summary>A web page view.</summary>
    Page,
    /// <summary>A mobile screen view.</summary>
    Screen,
    /// <summary>The customer belongs to a group (company, household, store).</summary>
    Group,
    /// <summary>Two identities are the same customer.</summary>
    Alias,
}

/// <summary>Wire names of <see cref="EventType"/>.</summary>
public static class EventTypes
{
    /// <summary>The lower-case wire name, as in the Segment spec.</summary>
    public static string ToWire(this EventType type) => type switch
    {
        EventType.Identify => "identify",
        EventType.Track => "track",
        EventType.Page => "page",
        EventType.Screen => "screen",
        EventType.Group => "group",
        EventType.Alias => "alias",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Parses a wire name; case-insensitive as Segment is.</summary>
    public static bool TryParse(string? wire, out EventType type)
    {
        switch (wire?.ToLowerInvariant())
        {
            case "identify": type = EventType.Identify; return true;
            case "track": type = EventType.Track; return true;
            case "page": type = EventType.Page; return true;
            case "screen": type = EventType.Screen; return true;
            case "group": type = EventType.Group; return true;
            case "alias": type = EventType.Alias; return true;
            default: type = default; return false;
        }
    }
}
