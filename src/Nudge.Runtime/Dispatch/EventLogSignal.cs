namespace Nudge.Runtime.Dispatch;

/// <summary>Tells the dispatcher that events were committed, so it reads them at once.</summary>
public sealed class EventLogSignal : Signal
{
    /// <summary>Events were committed to the log.</summary>
    public void Committed()
    {
        Pulse();
        Redemptions.Pulse();
    }

    /// <summary>The same news for coupon redemptions, a second reader of the log with its own pulses.</summary>
    public Signal Redemptions { get; } = new RedemptionSignal();

    private sealed class RedemptionSignal : Signal;
}
