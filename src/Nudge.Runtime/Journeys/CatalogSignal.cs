namespace Nudge.Runtime.Journeys;

/// <summary>Tells catalog triggers that a price or stock change was recorded, so they look at once instead of at the next poll.</summary>
public sealed class CatalogSignal : Signal;
