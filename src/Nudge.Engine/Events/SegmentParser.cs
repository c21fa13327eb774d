using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Nudge.Engine.Commerce;
using Nudge.Engine.Messaging;

namespace Nudge.Engine.Events;

/// <summary>
/// Parses and validates request bodies of the Segment HTTP Tracking API. Every message is checked on
/// its own: a bad message is reported by batch index and field, and the valid ones around it are kept.
/// </summary>
public sealed class SegmentParser(IngestLimits limits)
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    /// <summary>The limits this parser enforces.</summary>
    public IngestLimits Limits => limits;

    /// <summary>Parses the body of <c>/v1/identify</c>, <c>/v1/track</c> and the other single-message calls.</summary>
    public ParseResult ParseSingle(ReadOnlyMemory<byte> body, EventType type, DateTimeOffset receivedAt)
    {
        var result = new ParseResult();
        using var doc = OpenObject(body, limits.MaxMessageBytes, "message", "The body must be a JSON object.", result);
        if (doc is null) return result;
        var root = doc.RootElement;
        if (!TryReadWriteKey(root, result)) return result;
        ParseOne(root, type, index: null, batchSentAt: null, receivedAt, result);
        return result;
    }

    /// <summary>Parses the body of <c>/v1/batch</c>: <c>{"batch":[...], "sentAt": ..., "writeKey": ...}</c>.</summary>
    public ParseResult ParseBatch(ReadOnlyMemory<byte> body, DateTimeOffset receivedAt)
    {
        var result = new ParseResult();
        using var doc = OpenObject(body, limits.MaxBatchBytes, "batch", "The body must be a JSON object with a \"batch\" array.", result);
        if (doc is null) return result;
        var root = doc.RootElement;
        if (!TryReadWriteKey(root, result)) return result;
        if (!root.TryGetProperty("batch", out var batch) || batch.ValueKind != JsonValueKind.Array)
        {
            result.Errors.Add(new FieldError(null, "batch", "must be an array of messages"));
            return result;
        }

        var count = batch.GetArrayLength();
        if (count > limits.MaxBatchEvents)
        {
            result.BodyError = $"The batch holds {count} messages; the limit is {limits.MaxBatchEvents}.";
            return result;
        }

        DateTimeOffset? sentAt = null;
        if (root.TryGetProperty("sentAt", out var sent) && sent.ValueKind != JsonValueKind.Null)
        {
            if (sent.ValueKind != JsonValueKind.String || !TryParseTime(sent.GetString(), out var s))
            {
                // It applies to every message: without it none can be corrected for clock skew.
                result.BodyError = "sentAt: must be an ISO-8601 date-time string, e.g. \"2026-11-22T08:30:00Z\"";
                return result;
            }

            sentAt = s;
        }

        var index = 0;
        foreach (var message in batch.EnumerateArray())
        {
            ParseOne(message, forcedType: null, index, sentAt, receivedAt, result);
            index++;
        }

        return result;
    }

    /// <summary>The body as a JSON object, or null with <see cref="ParseResult.BodyError"/> saying why not.</summary>
    private static JsonDocument? OpenObject(ReadOnlyMemory<byte> body, int limit, string what, string notAnObject, ParseResult result)
    {
        if (body.Length > limit)
        {
            result.BodyError = $"The {what} is {body.Length} bytes; the limit is {limit} bytes.";
            return null;
        }

        var doc = TryParse(body, result);
        if (doc is null || doc.RootElement.ValueKind == JsonValueKind.Object) return doc;
        doc.Dispose();
        result.BodyError = notAnObject;
        return null;
    }

    private static JsonDocument? TryParse(ReadOnlyMemory<byte> body, ParseResult result)
    {
        try
        {
            return JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is long line ? $" at line {line + 1}, byte {e.BytePositionInLine + 1}" : "";
            result.BodyError = $"The body is not valid JSON{where}.";
            return null;
        }
    }

    private void ParseOne(JsonElement message, EventType? forcedType, int? index, DateTimeOffset? batchSentAt, DateTimeOffset receivedAt, ParseResult result)
    {
        try
        {
            ParseMessage(message, forcedType, index, batchSentAt, receivedAt, result);
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses to turn an escaped lone surrogate ("\ud800") into a string.
            result.Errors.Add(new FieldError(index, "", "contains a \\u escape that is not valid UTF-16 (a lone surrogate)"));
        }
    }

    private void ParseMessage(JsonElement message, EventType? forcedType, int? index, DateTimeOffset? batchSentAt, DateTimeOffset receivedAt, ParseResult result)
    {
        var errorsBefore = result.Errors.Count;
        // One delegate for the whole message (a method group would allocate one per call).
        Action<string, string> fail = (field, detail) => result.Errors.Add(new FieldError(index, field, detail));

        if (message.ValueKind != JsonValueKind.Object)
        {
            fail("", "each message must be a JSON object");
            return;
        }

        var raw = JsonMarshal.GetRawUtf8Value(message);
        if (raw.Length > limits.MaxMessageBytes)
        {
            fail("", $"the message is {raw.Length} bytes; the limit is {limits.MaxMessageBytes} bytes");
            return;
        }

        EventType type;
        if (forcedType is EventType t)
        {
            type = t;
        }
        else if (!message.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
        {
            fail("type", "is required: one of identify, track, page, screen, group, alias");
            return;
        }
        else if (!EventTypes.TryParse(typeElement.GetString(), out type))
        {
            fail("type", $"\"{typeElement.GetString()}\" is not one of identify, track, page, screen, group, alias");
            return;
        }

        var userId = ReadId(message, "userId", fail);
        var anonymousId = ReadId(message, "anonymousId", fail);
        var previousId = type == EventType.Alias ? ReadId(message, "previousId", fail) : null;
        var messageId = ReadId(message, "messageId", fail);
        var original = ReadTime(message, "originalTimestamp", index, "originalTimestamp", result)
            ?? ReadTime(message, "timestamp", index, "timestamp", result);
        var sentAt = ReadTime(message, "sentAt", index, "sentAt", result) ?? batchSentAt;

        string? name = null;
        switch (type)
        {
            case EventType.Track:
                name = ReadString(message, "event", fail);
                if (string.IsNullOrWhiteSpace(name) && result.Errors.Count == errorsBefore)
                    fail("event", "is required for a track call: the name of what the customer did, e.g. \"Order Completed\"");
                break;
            case EventType.Page or EventType.Screen:
                name = ReadString(message, "name", fail);
                break;
            case EventType.Alias when string.IsNullOrEmpty(previousId) && result.Errors.Count == errorsBefore:
                fail("previousId", "is required for an alias call: the identity being joined to userId");
                break;
            case EventType.Group when string.IsNullOrEmpty(ReadId(message, "groupId", fail)) && result.Errors.Count == errorsBefore:
                fail("groupId", "is required for a group call");
                break;
        }

        if (string.IsNullOrEmpty(userId) && string.IsNullOrEmpty(anonymousId) && !HasErrorOn(result, errorsBefore, "userId", "anonymousId"))
            fail("userId", "userId or anonymousId is required");
        if (type == EventType.Alias && string.IsNullOrEmpty(userId) && !HasErrorOn(result, errorsBefore, "userId"))
            fail("userId", "is required for an alias call: the identity previousId joins");

        RequireObject(message, "context", fail);
        IReadOnlyList<Trait> traits = type is EventType.Identify or EventType.Group ? ReadTraits(message, fail) : [];
        if (type is EventType.Track or EventType.Page or EventType.Screen && RequireObject(message, "properties", fail) is JsonElement properties
            && name is not null && CommerceEvents.IsCommerce(name))
        {
            CommerceValidation.Validate(name, properties, fail);
        }

        if (result.Errors.Count > errorsBefore) return;

        var timestamp = receivedAt;
        if (original is DateTimeOffset o)
        {
            timestamp = o;
            if (sentAt is DateTimeOffset s)
            {
                var skew = s - o;
                if (Math.Abs(skew.TotalDays) > MaxSkewDays)
                {
                    fail(index is null || message.TryGetProperty("sentAt", out _) ? "sentAt" : "timestamp",
                        $"is more than {MaxSkewDays} days from the message timestamp; send real times (sentAt is when the SDK sent the message)");
                    return;
                }

                timestamp = receivedAt - skew;
            }
        }
        result.Events.Add(new IncomingEvent(
            string.IsNullOrEmpty(messageId) ? "nudge-" + Guid.CreateVersion7().ToString("N") : messageId,
            type,
            name,
            NullIfEmpty(userId),
            NullIfEmpty(anonymousId),
            NullIfEmpty(previousId),
            timestamp,
            receivedAt,
            traits,
            raw.ToArray()));
    }

    // A sender's clock may be wrong by hours or days, not by centuries; beyond this the times are nonsense.
    private const int MaxSkewDays = 3650;

    private static bool HasErrorOn(ParseResult result, int from, params string[] fields)
    {
        for (var i = from; i < result.Errors.Count; i++)
            if (fields.Contains(result.Errors[i].Field)) return true;
        return false;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>Ids are strings; numbers are accepted and kept as written, since many SDKs send numeric ids.</summary>
    private static string? ReadId(JsonElement message, string name, Action<string, string> fail)
    {
        if (!message.TryGetProperty(name, out var v)) return null;
        switch (v.ValueKind)
        {
            case JsonValueKind.String: return NoNul(v.GetString(), name, fail);
            case JsonValueKind.Number: return v.GetRawText();
            case JsonValueKind.Null: return null;
            default: fail(name, $"must be a string (got {Describe(v.ValueKind)})"); return null;
        }
    }

    private static string? ReadString(JsonElement message, string name, Action<string, string> fail)
    {
        if (!message.TryGetProperty(name, out var v)) return null;
        switch (v.ValueKind)
        {
            case JsonValueKind.String: return NoNul(v.GetString(), name, fail);
            case JsonValueKind.Null: return null;
            default: fail(name, $"must be a string (got {Describe(v.ValueKind)})"); return null;
        }
    }

    /// <summary>Ids, names and trait names are stored as text columns, which cannot hold U+0000.</summary>
    private static string? NoNul(string? value, string field, Action<string, string> fail)
    {
        if (value is null || !value.Contains('\0', StringComparison.Ordinal)) return value;
        fail(field, "must not contain the NUL character (\\u0000)");
        return null;
    }

    private static JsonElement? RequireObject(JsonElement message, string name, Action<string, string> fail)
    {
        if (!message.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Object) return v;
        fail(name, $"must be an object (got {Describe(v.ValueKind)})");
        return null;
    }

    private static List<Trait> ReadTraits(JsonElement message, Action<string, string> fail)
    {
        if (RequireObject(message, "traits", fail) is not JsonElement traits) return [];
        List<Trait> list = [];
        foreach (var p in traits.EnumerateObject())
        {
            if (NoNul(p.Name, "traits", fail) is null) return [];
            if (p.Name == ConsentTraits.Name) ConsentTraits.Validate(p.Value, fail);
            list.Add(new Trait(p.Name, p.Value.GetRawText()));
        }

        return list;
    }

    private static DateTimeOffset? ReadTime(JsonElement e, string name, int? index, string field, ParseResult result)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String && TryParseTime(v.GetString(), out var time)) return time;
        result.Errors.Add(new FieldError(index, field, "must be an ISO-8601 date-time string, e.g. \"2026-11-22T08:30:00Z\""));
        return null;
    }

    // ISO-8601 only: a culture's "12/1/2010" is ambiguous (December or January) and is refused.
    private static readonly string[] IsoFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mm:ssK", "yyyy-MM-dd HH:mmK", "yyyy-MM-dd",
    ];

    /// <summary>ISO-8601 date-time (or date), culture-invariant; a time without an offset is taken as UTC.</summary>
    public static bool TryParseTime(string? text, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(text?.Trim(), IsoFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);

    private static bool TryReadWriteKey(JsonElement e, ParseResult result)
    {
        if (!e.TryGetProperty("writeKey", out var v) || v.ValueKind == JsonValueKind.Null) return true;
        if (v.ValueKind == JsonValueKind.String)
        {
            result.WriteKey = v.GetString();
            return true;
        }

        result.BodyError = "writeKey: must be a string";
        return false;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.Number => "a number",
        JsonValueKind.String => "a string",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
