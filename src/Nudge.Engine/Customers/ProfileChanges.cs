using Nudge.Engine.Events;
using Nudge.Engine.Messaging;

namespace Nudge.Engine.Customers;

/// <summary>
/// What a set of newly committed events changes about customers, reduced so that each row is written
/// once per append: first/last seen per customer, the latest value per trait (last write wins by event
/// timestamp; on a tie the later event wins), and identity links (the first link of an id wins).
/// </summary>
public sealed class ProfileChanges
{
    /// <summary>Customers seen, with the earliest and latest event timestamps among the events.</summary>
    public Dictionary<string, (DateTimeOffset First, DateTimeOffset Last)> Customers { get; } = new(StringComparer.Ordinal);

    /// <summary>Trait writes keyed by (subject, trait name). The subject is the user id, or the anonymous id when no user id was sent.</summary>
    public Dictionary<(string Subject, string Name), TraitValue> Traits { get; } = [];

    /// <summary>Identity links keyed by the joined id (anonymous id or alias).</summary>
    public Dictionary<string, (string Kind, string UserId, DateTimeOffset At)> Links { get; } = new(StringComparer.Ordinal);

    /// <summary>Consent given or withdrawn through the <c>consent</c> trait, for the consent ledger.</summary>
    public List<ConsentChange> Consents { get; } = [];

    /// <summary>Reduces events (in log order) to the changes they make.</summary>
    public static ProfileChanges From(IEnumerable<IncomingEvent> events)
    {
        var changes = new ProfileChanges();
        foreach (var e in events) changes.Apply(e);
        return changes;
    }

    private void Apply(IncomingEvent e)
    {
        if (e.UserId is { } userId)
        {
            Customers[userId] = Customers.TryGetValue(userId, out var seen)
                ? (Min(seen.First, e.Timestamp), Max(seen.Last, e.Timestamp))
                : (e.Timestamp, e.Timestamp);
            if (e.AnonymousId is { } anonymousId && anonymousId != userId) Link(anonymousId, "anonymous", userId, e.Timestamp);
            if (e.Type == EventType.Alias && e.PreviousId is { } previousId && previousId != userId) Link(previousId, "alias", userId, e.Timestamp);
        }

        if (e.Type != EventType.Identify) return;
        var subject = e.UserId ?? e.AnonymousId;
        if (subject is null) return;
        foreach (var trait in e.Traits)
        {
            var key = (subject, trait.Name);
            if (!Traits.TryGetValue(key, out var current) || e.Timestamp >= current.UpdatedAt)
                Traits[key] = new TraitValue(trait.JsonValue, e.Timestamp);
            if (trait.Name == ConsentTraits.Name) Consents.AddRange(ConsentTraits.Read(subject, trait.JsonValue, "identify", e.Timestamp));
        }
    }

    private void Link(string id, string kind, string userId, DateTimeOffset at) => Links.TryAdd(id, (kind, userId, at));

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
