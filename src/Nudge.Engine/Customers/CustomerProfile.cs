namespace Nudge.Engine.Customers;

/// <summary>A customer as the management API shows it: who they are and how they were identified.</summary>
/// <param name="UserId">The shop's id for the customer.</param>
/// <param name="FirstSeen">Timestamp of the earliest event filed under the customer.</param>
/// <param name="LastSeen">Timestamp of the latest event filed under the customer.</param>
/// <param name="Traits">Profile traits, name to raw JSON value, each the latest by event timestamp.</param>
/// <param name="Identities">Anonymous ids and aliases joined to this customer.</param>
public sealed record CustomerProfile(
    string UserId,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    IReadOnlyDictionary<string, TraitValue> Traits,
    IReadOnlyList<Identity> Identities);

/// <summary>A trait's raw JSON value and the timestamp of the event that set it.</summary>
/// <param name="JsonValue">The JSON text of the value.</param>
/// <param name="UpdatedAt">Timestamp of the event that set it; a later event overwrites, an earlier one does not.</param>
public readonly record struct TraitValue(string JsonValue, DateTimeOffset UpdatedAt);

/// <summary>Another id that belongs to a customer.</summary>
/// <param name="Id">The anonymous id or previous user id.</param>
/// <param name="Kind"><c>anonymous</c> (joined by identify or a track carrying both ids) or <c>alias</c>.</param>
/// <param name="LinkedAt">Timestamp of the event that joined it.</param>
public sealed record Identity(string Id, string Kind, DateTimeOffset LinkedAt);
