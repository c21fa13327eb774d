using Nudge.Engine.Customers;
using Nudge.Engine.Definitions;
using Nudge.Engine.Events;

namespace Nudge.Engine.Tests.Customers;

/// <summary>Builds a customer's event log the way the event log stores it.</summary>
internal sealed class History(string userId = "u1")
{
    public static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public List<StoredEvent> Events { get; } = [];

    public History Track(string name, string properties, DateTimeOffset at, string? anonymousId = null)
    {
        var json = $$"""{"type":"track","event":"{{name}}","userId":"{{userId}}","properties":{{properties}}}""";
        Events.Add(new StoredEvent(Events.Count + 1, $"m{Events.Count + 1}", EventType.Track, name, userId, anonymousId, at, at, json));
        return this;
    }

    public History Identify(string traits, DateTimeOffset at)
    {
        var json = $$"""{"type":"identify","userId":"{{userId}}","traits":{{traits}}}""";
        Events.Add(new StoredEvent(Events.Count + 1, $"m{Events.Count + 1}", EventType.Identify, null, userId, null, at, at, json));
        return this;
    }

    public History Order(string orderId, decimal total, DateTimeOffset at, string extra = "") =>
        Track("Order Completed", $$"""{"order_id":"{{orderId}}","total":{{total}},"currency":"CNY"{{extra}}}""", at);

    public CustomerState Fold(FoldSettings? settings = null)
    {
        var state = new CustomerState(userId);
        foreach (var e in Events) CustomerFold.Apply(state, e, settings ?? Settings(DefaultDefinitions.Load()));
        return state;
    }

    public static FoldSettings Settings(DefinitionSet definitions) => new("CNY", _ => null, definitions.TrackersByEvent);

    public static CustomerState Evaluated(CustomerState state, DateTimeOffset now, DefinitionSet? definitions = null)
    {
        CustomerEvaluator.Evaluate(state, definitions ?? DefaultDefinitions.Load(), now, []);
        return state;
    }
}
