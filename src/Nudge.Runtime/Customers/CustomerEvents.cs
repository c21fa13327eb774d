using System.Text.Json;
using Nudge.Engine.Events;
using Nudge.Runtime.Dispatch;
using Nudge.Storage;

namespace Nudge.Runtime.Customers;

/// <summary>
/// Writes what the engine itself learns about a customer — custom tag changes, opens, clicks,
/// unsubscribes, bounces, SMS receipts, journey profile updates — into their event log, where stats, segments and journeys see
/// it like any other event, and wakes the dispatcher.
/// </summary>
public sealed class CustomerEvents(INudgeStore store, EventLogSignal signal, TimeProvider time)
{
    /// <summary>Appends a track event (null properties are left out); the same <paramref name="messageId"/> twice within a day is stored once.</summary>
    public async Task AppendAsync(string userId, string name, IReadOnlyDictionary<string, object?> properties, string messageId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("type", "track");
            w.WriteString("event", name);
            w.WriteString("userId", userId);
            w.WriteString("messageId", messageId);
            w.WriteString("timestamp", now);
            w.WriteStartObject("properties");
            foreach (var (key, value) in properties)
            {
                switch (value)
                {
                    case null: break;
                    case long l: w.WriteNumber(key, l); break;
                    case int i: w.WriteNumber(key, i); break;
                    case bool b: w.WriteBoolean(key, b); break;
                    default: w.WriteString(key, value.ToString()); break;
                }
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        await store.AppendAsync([new IncomingEvent(messageId, EventType.Track, name, userId, null, null, now, now, [], buffer.ToArray())], TimeSpan.FromDays(1), cancellationToken);
        signal.Committed();
    }

    /// <summary>Appends an identify event setting traits (a JSON object); the same <paramref name="messageId"/> twice within a day is stored once.</summary>
    public async Task IdentifyAsync(string userId, string traitsJson, string messageId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        using var traits = JsonDocument.Parse(traitsJson);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("type", "identify");
            w.WriteString("userId", userId);
            w.WriteString("messageId", messageId);
            w.WriteString("timestamp", now);
            w.WritePropertyName("traits");
            traits.RootElement.WriteTo(w);
            w.WriteEndObject();
        }

        List<Trait> list = [.. traits.RootElement.EnumerateObject().Select(p => new Trait(p.Name, p.Value.GetRawText()))];
        await store.AppendAsync([new IncomingEvent(messageId, EventType.Identify, null, userId, null, null, now, now, list, buffer.ToArray())], TimeSpan.FromDays(1), cancellationToken);
        signal.Committed();
    }
}
