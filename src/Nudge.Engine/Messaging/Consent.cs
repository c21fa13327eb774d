using System.Text.Json;

namespace Nudge.Engine.Messaging;

/// <summary>One entry of the consent ledger: a customer granted or withdrew consent for a channel and topic.</summary>
/// <param name="Subject">The customer's user id (or the anonymous id it was given under).</param>
/// <param name="Channel">A channel name.</param>
/// <param name="Topic">A topic name.</param>
/// <param name="Granted">True for opt-in, false for opt-out.</param>
/// <param name="Source">Where it came from: <c>identify</c>, <c>api</c>, <c>import</c>, <c>unsubscribe</c>, <c>sms-reply</c>...</param>
/// <param name="At">When the customer gave or withdrew it; the latest per channel and topic wins.</param>
public sealed record ConsentChange(string Subject, string Channel, string Topic, bool Granted, string Source, DateTimeOffset At);

/// <summary>
/// The <c>consent</c> trait of identify calls, the documented way for a shop to pass consent with a
/// profile: <c>{"email": true, "sms": {"marketing": false, "transactional": true}}</c>. A boolean is
/// the marketing consent of that channel; an object names topics. Channels not mentioned keep what
/// they had: each entry is a change, not a replacement of the whole.
/// </summary>
public static class ConsentTraits
{
    /// <summary>The trait name.</summary>
    public const string Name = "consent";

    /// <summary>Reports what is wrong with a consent trait value through <paramref name="fail"/>; nothing when it is valid.</summary>
    public static void Validate(JsonElement value, Action<string, string> fail)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            fail("traits.consent", "must be an object of channel → true/false or {\"marketing\": bool, \"transactional\": bool}");
            return;
        }

        foreach (var channel in value.EnumerateObject())
        {
            var path = $"traits.consent.{channel.Name}";
            if (!ChannelNames.IsChannel(channel.Name))
                fail(path, $"is not a channel; use one of {string.Join(", ", ChannelNames.All)}");
            else if (channel.Value.ValueKind == JsonValueKind.Object)
            {
                foreach (var topic in channel.Value.EnumerateObject())
                {
                    if (!Topics.IsTopic(topic.Name)) fail($"{path}.{topic.Name}", "is not a topic; use marketing or transactional");
                    else if (topic.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) fail($"{path}.{topic.Name}", "must be true or false");
                }
            }
            else if (channel.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                fail(path, "must be true, false or {\"marketing\": bool, \"transactional\": bool}");
        }
    }

    /// <summary>The ledger entries a valid consent trait value stands for.</summary>
    public static IEnumerable<ConsentChange> Read(string subject, string json, string source, DateTimeOffset at)
    {
        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.ValueKind != JsonValueKind.Object) yield break;
        foreach (var channel in doc.RootElement.EnumerateObject())
        {
            if (!ChannelNames.IsChannel(channel.Name)) continue;
            if (channel.Value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                yield return new ConsentChange(subject, channel.Name, Topics.Marketing, channel.Value.GetBoolean(), source, at);
            else if (channel.Value.ValueKind == JsonValueKind.Object)
            {
                foreach (var topic in channel.Value.EnumerateObject())
                    if (Topics.IsTopic(topic.Name) && topic.Value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                        yield return new ConsentChange(subject, channel.Name, topic.Name, topic.Value.GetBoolean(), source, at);
            }
        }
    }
}
