using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Nudge.Engine.Catalog;
using Nudge.Engine.Commerce;
using Nudge.Engine.Events;

namespace Nudge.Engine.Imports;

/// <summary>How to read values the file does not spell out.</summary>
/// <param name="DateFormat">A .NET date format for non-ISO timestamps, e.g. <c>M/d/yyyy H:mm</c> (UCI Online Retail).</param>
/// <param name="Currency">The currency of prices when the file has no currency column.</param>
/// <param name="Now">The import time: receivedAt of every event, and the timestamp of rows without one.</param>
public sealed record ImportSettings(string? DateFormat, string? Currency, DateTimeOffset Now);

/// <summary>
/// Turns CSV rows into the same Segment messages the HTTP API accepts, validated by the same parser,
/// with message ids derived from the rows so that importing a file twice stores it once.
/// </summary>
public sealed partial class RowConverter(ImportKind kind, ImportColumns columns, ImportSettings settings)
{
    private static readonly SegmentParser Parser = new(IngestLimits.Segment);

    // The JSON is stored, not embedded in HTML: keep 杭州 readable instead of \u676D\u5DDE.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Rows that could not be imported.</summary>
    public List<RejectedRow> Rejected { get; } = [];

    /// <summary>A customers row as an identify call; null when rejected.</summary>
    public IncomingEvent? Customer(CsvRecord row)
    {
        var userId = columns.Get(row, "user_id");
        if (userId is null) return Reject(row, "user_id", "user id is empty");
        if (!TryTime(row, out var timestamp)) return null;
        foreach (var (tag, _) in Tags(row))
        {
            if (!Definitions.DefinitionParser.IsValidId(tag))
                return Reject(row, "tags", $"\"{tag}\" is not a tag name: use 1-64 letters, digits, - or _ (separate tags with |, give a value as name=value)");
        }

        var consent = new List<(string Channel, bool Granted)>();
        foreach (var entry in (columns.Get(row, "consent") ?? "").Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (channel, answer) = entry.IndexOf('=', StringComparison.Ordinal) is var eq and > 0 ? (entry[..eq].Trim(), entry[(eq + 1)..].Trim()) : (entry, "yes");
            bool? granted = answer.ToLowerInvariant() switch { "yes" or "y" or "true" or "1" => true, "no" or "n" or "false" or "0" => false, _ => null };
            if (!Messaging.ChannelNames.IsChannel(channel) || granted is null)
                return Reject(row, "consent", $"\"{entry}\" is not channel consent: list channels that may send marketing (email|sms), or give each a yes/no (email=yes|sms=no)");
            consent.Add((channel, granted.Value));
        }

        return ToEvent(row, EventType.Identify, w =>
        {
            w.WriteString("messageId", $"import:customer:{userId}:{RowHash(row)}");
            w.WriteString("userId", userId);
            WriteOptional(w, "anonymousId", columns.Get(row, "anonymous_id"));
            w.WriteString("timestamp", timestamp);
            w.WriteStartObject("traits");
            foreach (var field in ImportColumns.FieldsOf(ImportKind.Customers).Where(f => f is not ("user_id" or "anonymous_id" or "timestamp" or "tags" or "consent")))
                WriteOptional(w, Camel(field), columns.Get(row, field));
            if (consent.Count > 0)
            {
                // The consent trait of identify calls: marketing consent per channel, recorded in the ledger.
                w.WriteStartObject(Messaging.ConsentTraits.Name);
                foreach (var (channel, granted) in consent) w.WriteBoolean(channel, granted);
                w.WriteEndObject();
            }

            WriteExtras(w, row);
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// The custom tags of a customers row (its <c>tags</c> column, e.g. <c>vip=gold|wholesale</c>) as
    /// Tag Added events. Call after <see cref="Customer"/> accepted the row.
    /// </summary>
    public IEnumerable<IncomingEvent> CustomerTags(CsvRecord row)
    {
        var userId = columns.Get(row, "user_id")!;
        TryTime(row, out var timestamp);
        foreach (var (tag, value) in Tags(row))
        {
            var e = ToEvent(row, EventType.Track, w =>
            {
                w.WriteString("messageId", $"import:tag:{userId}:{tag}:{value}");
                w.WriteString("event", Customers.TagEvents.TagAdded);
                w.WriteString("userId", userId);
                w.WriteString("timestamp", timestamp);
                w.WriteStartObject("properties");
                w.WriteString("tag", tag);
                w.WriteString("value", value);
                w.WriteEndObject();
            });
            if (e is not null) yield return e;
        }
    }

    private IEnumerable<(string Tag, string Value)> Tags(CsvRecord row) =>
        (columns.Get(row, "tags") ?? "").Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => t.Split('=', 2, StringSplitOptions.TrimEntries) is [var name, var value] && value.Length > 0 ? (name, value) : (t.TrimEnd('='), "true"));

    /// <summary>An events row as a track (or the type in its <c>type</c> column); null when rejected.</summary>
    public IncomingEvent? Event(CsvRecord row)
    {
        var typeText = columns.Get(row, "type") ?? "track";
        if (!EventTypes.TryParse(typeText, out var type)) return Reject(row, "type", $"\"{typeText}\" is not one of identify, track, page, screen, group, alias");
        if (!TryTime(row, out var timestamp)) return null;
        JsonElement? properties = null;
        if (columns.Get(row, "properties") is { } json)
        {
            try
            {
                using var doc = JsonDocument.Parse(json);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) return Reject(row, "properties", "must be a JSON object");
                properties = doc.RootElement.Clone();
            }
            catch (JsonException)
            {
                return Reject(row, "properties", "is not valid JSON");
            }
        }

        return ToEvent(row, type, w =>
        {
            w.WriteString("messageId", columns.Get(row, "message_id") ?? $"import:event:{RowHash(row)}");
            WriteOptional(w, "event", columns.Get(row, "event"));
            WriteOptional(w, "userId", columns.Get(row, "user_id"));
            WriteOptional(w, "anonymousId", columns.Get(row, "anonymous_id"));
            w.WriteString("timestamp", timestamp);
            w.WriteStartObject(type == EventType.Identify ? "traits" : "properties");
            if (properties is { } p)
                foreach (var property in p.EnumerateObject()) property.WriteTo(w);
            WriteExtras(w, row);
            w.WriteEndObject();
        });
    }

    /// <summary>A products row; null when rejected.</summary>
    public Product? Product(CsvRecord row)
    {
        var id = columns.Get(row, "product_id") ?? columns.Get(row, "sku");
        if (id is null) { Reject(row, "product_id", "product id is empty"); return null; }
        if (!TryDecimal(row, "price", out var price) || !TryInt(row, "stock", out var stock)) return null;
        var product = new Product(id, columns.Get(row, "sku"), columns.Get(row, "name"), columns.Get(row, "category"), columns.Get(row, "brand"),
            price, columns.Get(row, "currency") ?? (price is null ? null : settings.Currency), stock, columns.Get(row, "url"), columns.Get(row, "image_url"));
        var problems = ProductRules.Validate(product);
        foreach (var (field, detail) in problems) Reject(row, field == "productId" ? "product_id" : field, detail);
        return problems.Count == 0 ? product : null;
    }

    private IncomingEvent? ToEvent(CsvRecord row, EventType type, Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("type", type.ToWire());
            body(w);
            w.WriteStartObject("context");
            w.WriteStartObject("library");
            w.WriteString("name", "nudge-import");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        var result = Parser.ParseSingle(buffer.WrittenMemory, type, settings.Now);
        if (result.BodyError is not null) return Reject(row, "", result.BodyError);
        foreach (var error in result.Errors) Reject(row, FieldOf(error.Field), error.Detail);
        return result.Events.Count == 1 ? result.Events[0] : null;
    }

    private void WriteExtras(Utf8JsonWriter w, CsvRecord row)
    {
        foreach (var (index, name) in columns.Extra)
        {
            if (index < row.Fields.Length && row.Fields[index].Trim() is { Length: > 0 } value) w.WriteString(name, value);
        }
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null) w.WriteString(name, value);
    }

    private bool TryTime(CsvRecord row, out DateTimeOffset time)
    {
        time = settings.Now;
        if (columns.Get(row, "timestamp") is not { } text) return true;
        // ISO-8601 always works; --date-format adds one layout (never a guess between d/M and M/d).
        if (SegmentParser.TryParseTime(text, out time)
            || (settings.DateFormat is { } format && DateTimeOffset.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time)))
            return true;
        Reject(row, "timestamp", settings.DateFormat is { } f
            ? $"\"{text}\" does not match --date-format \"{f}\""
            : $"\"{text}\" is not an ISO-8601 date-time; for other layouts pass --date-format, e.g. \"M/d/yyyy H:mm\"");
        return false;
    }

    private bool TryDecimal(CsvRecord row, string field, out decimal? value)
    {
        value = null;
        if (columns.Get(row, field) is not { } text) return true;
        if (decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var d)) { value = d; return true; }
        Reject(row, field, $"\"{text}\" is not a number");
        return false;
    }

    private bool TryInt(CsvRecord row, string field, out int? value)
    {
        value = null;
        if (columns.Get(row, field) is not { } text) return true;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i)) { value = i; return true; }
        Reject(row, field, $"\"{text}\" is not a whole number");
        return false;
    }

    private IncomingEvent? Reject(CsvRecord row, string field, string reason)
    {
        Rejected.Add(new RejectedRow(row.Line, field.Length == 0 ? "" : columns.ColumnOf(field), reason));
        return null;
    }

    /// <summary>A stable id for a row's content: the same row imported again gets the same message id.</summary>
    private static string RowHash(CsvRecord row) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f', row.Fields))))[..16];

    /// <summary>Maps a message field path from the parser back to an import field: properties.products[0].price → price.</summary>
    private static string FieldOf(string path)
    {
        var last = path[(path.LastIndexOf('.') + 1)..];
        return last switch
        {
            "userId" => "user_id",
            "anonymousId" => "anonymous_id",
            "messageId" => "message_id",
            "originalTimestamp" => "timestamp",
            _ => last,
        };
    }

    private static string Camel(string field) => field switch
    {
        "first_name" => "firstName",
        "last_name" => "lastName",
        "signup_source" => "signupSource",
        _ => field,
    };
}
