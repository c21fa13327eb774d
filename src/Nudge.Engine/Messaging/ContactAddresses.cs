using System.Text.Json;

namespace Nudge.Engine.Messaging;

/// <summary>Addresses from contact traits (<c>email</c>, <c>phone</c>), in the one form suppressions and sends key them by.</summary>
public static class ContactAddresses
{
    /// <summary>The address a contact trait's JSON value gives a channel — email lower-cased, phone as given, both trimmed — or null when it is not a non-empty string.</summary>
    public static string? From(string channel, string traitJson)
    {
        using var doc = JsonDocument.Parse(traitJson);
        return doc.RootElement.ValueKind == JsonValueKind.String && Normalize(channel, doc.RootElement.GetString()!) is { Length: > 0 } address ? address : null;
    }

    /// <summary>An address as given (by a person or an API call) in that one form.</summary>
    public static string Normalize(string channel, string address) =>
        channel == ChannelNames.Email ? address.Trim().ToLowerInvariant() : address.Trim();
}
