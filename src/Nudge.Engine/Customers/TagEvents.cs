namespace Nudge.Engine.Customers;

/// <summary>
/// Track events that set and remove custom tags. Custom tags live in the event log like everything
/// else, so a customer rebuilt from the log keeps them. Properties: <c>tag</c> (the name) and, for
/// Tag Added, an optional <c>value</c> ("true" when absent).
/// </summary>
public static class TagEvents
{
    /// <summary>A custom tag was set (or its value changed).</summary>
    public const string TagAdded = "Tag Added";

    /// <summary>A custom tag was removed.</summary>
    public const string TagRemoved = "Tag Removed";
}
