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
    public Task AppendAsync(string userId, string name, IReadOnlyDictionary<string, object?> properties, string messageId, CancellationToken cancellationToken) =>
        WriteAsync(EventType.Track, name, userId, messageId, [], w =>
        {
            w.WriteString("event", name);
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
        }, cancellationToken);

    /// <summary>Appends an identify event setting traits (a JSON object); the same <paramref name="messageId"/> twice within a day is stored once.</summary>
    public async Task IdentifyAsync(string userId, string traitsJson, string messageId, CancellationToken cancellationToken)
    {
        using var traits = JsonDocument.Parse(traitsJson);
        List<Trait> list = [.. traits.RootElement.EnumerateObject().Select(p => new Trait(p.Name, p.Value.GetRawText()))];
        await WriteAsync(EventType.Identify, null, userId, messageId, list, w =>
        {
            w.WritePropertyName("traits");
            traits.RootElement.WriteTo(w);
        }, cancellationToken);
    }

    /// <summary>Writes the message (type, userId, messageId, timestamp, then the body), appends it, and wakes the dispatcher.</summary>
    private async Task WriteAsync(EventType type, string? name, string userId, string messageId, IReadOnlyList<Trait> traits, Action<Utf8JsonWriter> body,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("type", type.ToWire());
            w.WriteString("userId", userId);
            w.WriteString("messageId", messageId);
            w.WriteString("timestamp", now);
            body(w);
            w.WriteEndObject();
        }

        await store.AppendAsync([new IncomingEvent(messageId, type, name, userId, null, null, now, now, traits, buffer.ToArray())], TimeSpan.FromDays(1), cancellationToken);
        signal.Committed();
    }
}
