namespace Nudge.Runtime;

/// <summary>Settings of the customer runtime.</summary>
public sealed record RuntimeOptions
{
    /// <summary>The shop currency (ISO 4217): revenue stats and RFM monetary bands count orders in it.</summary>
    public string Currency { get; init; } = "CNY";

    /// <summary>
    /// Most events the dispatcher reads and hands to customer grains in one round. Small rounds keep
    /// little in flight: with 10,000, a round's events and calls outlived young collections, and the
    /// runtime bench's active phase ran a tenth slower than with 2,500 (1,000 measured as fast or faster).
    /// </summary>
    public int DispatchBatch { get; init; } = 1_000;

    /// <summary>
    /// How often customer state changed by events is written back while events keep coming (at once
    /// when the log runs dry). Longer means fewer writes for busy customers and a longer replay after a crash.
    /// </summary>
    public TimeSpan WriteBackInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>States waiting for write-back at most; reaching it writes back early, bounding memory.</summary>
    public int MaxPendingStates { get; init; } = 100_000;

    /// <summary>How often the dispatcher looks for new events when nothing told it about any.</summary>
    public TimeSpan DispatchPoll { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest wait between looks at the durable timers (a timer written meanwhile wakes the pump sooner).</summary>
    public TimeSpan TimerPoll { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Customers whose timers fire in one round: a round's fixed costs (the due read, the write-back) are shared by this many.</summary>
    public int TimersPerRound { get; init; } = 5000;

    /// <summary>How often state changed outside dispatch (timers, API) is written back at the latest.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A customer grain idle this long is deactivated and its memory released.</summary>
    public TimeSpan IdleAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long the only customer in a failing dispatch round is retried before being set aside. With
    /// nobody to compare with, a fault of the engine looks the same as theirs, so this waits longer
    /// than when others' events apply beside theirs.
    /// </summary>
    public TimeSpan SetAsideAloneAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the RFM quintile cut points are recomputed from all customers.</summary>
    public TimeSpan RfmQuintilesInterval { get; init; } = TimeSpan.FromDays(1);

    /// <summary>
    /// A JSON file of definitions (the shape of the built-in defaults: <c>rfm</c>, <c>stages</c>,
    /// <c>tags</c>, <c>segments</c>) applied at start: each kind present replaces the stored ones.
    /// </summary>
    public string? DefinitionsFile { get; init; }

    /// <summary>
    /// A folder of journey files (YAML or JSON) imported at start: each file whose document changed
    /// becomes a new version. Any problem in any file stops the start.
    /// </summary>
    public string? JourneysDirectory { get; init; }

    /// <summary>The silo's port on loopback; 0 picks a free one.</summary>
    public int SiloPort { get; init; }
}
