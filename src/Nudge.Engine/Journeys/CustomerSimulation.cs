using System.Text.Json;
using Nudge.Engine.Customers;
using Nudge.Engine.Definitions;
using Nudge.Engine.Events;

namespace Nudge.Engine.Journeys;

/// <summary>
/// One customer lived through on virtual time, as the customer grain lives it: events folded, the
/// definitions evaluated, journeys run, and every timer fired exactly at its due time. Nothing is
/// sent; what the steps would do is collected with the time they would do it. The backtest and the
/// library's scenario tests run on it.
/// </summary>
public sealed class CustomerSimulation(string customerId, DefinitionSet definitions, FoldSettings fold, JourneyRunner runner)
{
    // Bounds the timers fired between two moments; a definition can never need this many.
    private const int MaxTimersAtOnce = 100_000;

    /// <summary>The customer's state now.</summary>
    public CustomerState State { get; } = new(customerId);

    /// <summary>What journeys did, in order, with the time each happened.</summary>
    public List<(DateTimeOffset At, JourneyEffect Effect)> Effects { get; } = [];

    /// <summary>Journey activity, in order.</summary>
    public List<JourneyActivity> Activity { get; } = [];

    /// <summary>The simulation's clock.</summary>
    public DateTimeOffset Now { get; private set; } = DateTimeOffset.MinValue;

    /// <summary>Journeys act from this time on; before it the customer's history only builds their state (a backtest's start).</summary>
    public DateTimeOffset JourneysFrom { get; init; } = DateTimeOffset.MinValue;

    private bool JourneysOn => Now >= JourneysFrom;

    // Latest view per product, kept only when a journey reacts to catalog changes (what the live engine reads from the log).
    private readonly Dictionary<string, DateTimeOffset> _viewed = new(StringComparer.Ordinal);

    /// <summary>Runs time forward to the event (firing what comes due before it), then applies it. Events must come in time order.</summary>
    public void Apply(StoredEvent e)
    {
        RunUntil(e.Timestamp);
        Now = e.Timestamp > Now ? e.Timestamp : Now;
        // The simulation numbers events itself: the events it feeds back (tag changes) have no log position.
        CustomerFold.Apply(State, e with { Position = State.Position + 1 }, fold);
        var output = new JourneyOutput();
        var name = e.Type == EventType.Track ? e.Name : null;
        var views = name == "Product Viewed" && runner.Journeys.CatalogTriggered.Count > 0;
        if ((JourneysOn && runner.Cares(State, name)) || views)
        {
            using var doc = JsonDocument.Parse(e.Json);
            var properties = doc.RootElement.TryGetProperty("properties", out var p) ? p : default;
            if (views && properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty("product_id", out var product) && Segments.EventTracker.Text(product) is { } id)
                _viewed[id] = e.Timestamp;
            if (JourneysOn) runner.OnEvent(State, new JourneyEvent(name, properties, e.Timestamp, e.Position), Now, output);
        }

        Evaluate(output);
    }

    /// <summary>An occurrence of a scheduled journey reaches the customer now.</summary>
    public void Schedule(string journeyId, DateTimeOffset occurrence)
    {
        RunUntil(occurrence);
        Now = occurrence > Now ? occurrence : Now;
        var output = new JourneyOutput();
        if (JourneysOn) runner.OnSchedule(State, journeyId, occurrence, Now, output);
        Evaluate(output);
    }

    /// <summary>A price drop or restock happens now (at its time).</summary>
    public void Offer(CatalogOffer offer)
    {
        RunUntil(offer.At);
        Now = offer.At > Now ? offer.At : Now;
        var output = new JourneyOutput();
        if (JourneysOn) runner.OnCatalog(State, offer, _viewed.TryGetValue(offer.ProductId, out var viewed) ? viewed : null, Now, output);
        Evaluate(output);
    }

    /// <summary>Fires every timer due up to <paramref name="until"/>, each at its own time.</summary>
    public void RunUntil(DateTimeOffset until)
    {
        for (var i = 0; i < MaxTimersAtOnce && State.NextCheckAt is { } due && due <= until; i++)
        {
            Now = due > Now ? due : Now;
            Evaluate(new JourneyOutput());
        }

        if (until > Now) Now = until;
    }

    private void Evaluate(JourneyOutput output)
    {
        List<CustomerChange> changes = [];
        CustomerEvaluator.Evaluate(State, definitions, Now, changes);
        if (!JourneysOn)
        {
            // The journeys' start is a moment to wake at, so date triggers due right after it are seen.
            if (State.NextCheckAt is null || JourneysFrom < State.NextCheckAt) State.NextCheckAt = JourneysFrom;
            return;
        }

        runner.OnChanges(State, changes, Now, output);
        runner.Advance(State, Now, output);
        if (runner.NextWake(State, Now) is { } wake && (State.NextCheckAt is null || wake < State.NextCheckAt)) State.NextCheckAt = wake;
        foreach (var effect in output.Effects) Effects.Add((Now, effect));
        Activity.AddRange(output.Activity);
        // Tag changes come back as events in the real engine; here they come back at once.
        foreach (var tag in output.Effects.OfType<TagEffect>())
        {
            var name = tag.Value is null ? TagEvents.TagRemoved : TagEvents.TagAdded;
            var json = JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["type"] = "track", ["event"] = name, ["userId"] = State.CustomerId,
                ["properties"] = new Dictionary<string, string?> { ["tag"] = tag.Tag, ["value"] = tag.Value },
            });
            Apply(new StoredEvent(State.Position, tag.Key, EventType.Track, name, State.CustomerId, null, Now, Now, json));
        }
    }
}
