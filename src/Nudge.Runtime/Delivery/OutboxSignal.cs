namespace Nudge.Runtime.Delivery;

/// <summary>Wakes delivery when a message is queued or a deferred one may be due.</summary>
public sealed class OutboxSignal : Signal;
