using System.Text.Json;

namespace Nudge.Engine.Messaging;

/// <summary>Addresses from contact traits (<c>email</c>, <c>phone</c>), in the one form suppressions and sends key them by.</summary>
public static class ContactAddresses
{
    /// <summary>The address a contact trait's JSON value gives a channel — email lower-cased, phone as given, both trimmed — or null when it is not a non-empty string.</summary>
    public static string? From(string channel, string traitJson)
    {
        using var doc = JsonDocument.Parse(traitJson);
        if (doc.RootElement.ValueKind != JsonValueKind.String || doc.RootElement.GetString()!.Trim() is not { Length: > 0 } text) return null;
        return channel == ChannelNames.Email ? text.ToLowerInvariant() : text;
    }
}
