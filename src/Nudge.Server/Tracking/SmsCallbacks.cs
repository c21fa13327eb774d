using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Nudge.Engine.Messaging;
using Nudge.Runtime.Delivery;
using Nudge.Storage;
using Nudge.Runtime.Customers;

namespace Nudge.Server.Tracking;

/// <summary>
/// SMS provider callbacks: delivery receipts, and replies where STOP / 退订 / TD unsubscribes the sender
/// at once. Both need the configured callback key (<c>?key=</c>): a forged STOP would unsubscribe someone.
/// </summary>
public static class SmsCallbacks
{
    private static readonly HashSet<string> StopWords = new(StringComparer.OrdinalIgnoreCase) { "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "TD", "T", "N", "退订", "退定", "取消" };

    public static IEndpointRouteBuilder MapSmsCallbacks(this IEndpointRouteBuilder app)
    {
        var sms = app.MapGroup("/sms").WithTags("SMS callbacks").DisableAntiforgery();
        sms.MapPost("/receipts/{format}", ReceiptAsync).WithSummary("Delivery receipts (generic JSON, Twilio form, Aliyun JSON array)");
        sms.MapPost("/replies/{format}", ReplyAsync).WithSummary("Inbound replies; STOP, 退订 or TD unsubscribes the sender from SMS marketing");
        return app;
    }

    /// <summary>True for a reply that asks to stop.</summary>
    public static bool IsStop(string text) => StopWords.Contains(text.Trim().TrimEnd('.', '!', '。', '！'));

    private static async Task<IResult> ReceiptAsync(string format, string? key, HttpRequest request, DeliverySettings settings, INudgeStore store, CustomerEvents events,
        TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Authorised(key, settings)) return Refused();
        List<(long Id, bool Delivered, string? Error)> receipts = [];
        if (format == "twilio" && request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancellationToken);
            if (long.TryParse(request.Query["m"], out var id))
            {
                var status = form["MessageStatus"].ToString();
                if (status is "delivered" or "undelivered" or "failed") receipts.Add((id, status == "delivered", form["ErrorCode"].ToString()));
            }
        }
        else if (await JsonBodyAsync(request, cancellationToken) is { } json)
        {
            using var doc = json;
            foreach (var r in Items(doc.RootElement))
            {
                // Aliyun: {out_id, success, err_code}; generic: {id, status: delivered|failed, error}.
                var idText = r.TryGetProperty("out_id", out var o) ? o.ToString() : r.TryGetProperty("id", out var i) ? i.ToString() : null;
                if (!long.TryParse(idText, out var id)) continue;
                var delivered = r.TryGetProperty("success", out var s) ? s.ValueKind == JsonValueKind.True : r.TryGetProperty("status", out var st) && st.GetString() == "delivered";
                var error = r.TryGetProperty("err_code", out var e) ? e.ToString() : r.TryGetProperty("error", out var ge) ? ge.ToString() : null;
                receipts.Add((id, delivered, error));
            }
        }
        else return Results.Problem(statusCode: 400, title: "Invalid receipt.", detail: "Send JSON (generic, aliyun) or a Twilio form.");

        foreach (var (id, delivered, error) in receipts)
        {
            if (await store.GetMessageAsync(id, cancellationToken) is not { } message || message.Channel != ChannelNames.Sms) continue;
            await events.AppendAsync(message.Intent.CustomerId, delivered ? "SMS Delivered" : "SMS Failed", new Dictionary<string, object?>
            {
                ["message_id"] = id, ["channel"] = ChannelNames.Sms, ["error"] = string.IsNullOrEmpty(error) ? null : error,
            }, $"sms-receipt:{id}:{(delivered ? "delivered" : "failed")}", cancellationToken);
        }

        return format == "twilio" ? Results.Content("<Response/>", "text/xml") : Results.Ok(new { received = receipts.Count });
    }

    private static async Task<IResult> ReplyAsync(string format, string? key, HttpRequest request, DeliverySettings settings, INudgeStore store, CustomerEvents events,
        TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Authorised(key, settings)) return Refused();
        List<(string From, string Text)> replies = [];
        if (format == "twilio" && request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancellationToken);
            replies.Add((form["From"].ToString(), form["Body"].ToString()));
        }
        else if (await JsonBodyAsync(request, cancellationToken) is { } json)
        {
            using var doc = json;
            foreach (var r in Items(doc.RootElement))
            {
                var from = r.TryGetProperty("phone_number", out var p) ? p.GetString() : r.TryGetProperty("from", out var f) ? f.GetString() : null;
                var text = r.TryGetProperty("content", out var c) ? c.GetString() : r.TryGetProperty("text", out var t) ? t.GetString() : null;
                if (from is not null && text is not null) replies.Add((from, text));
            }
        }
        else return Results.Problem(statusCode: 400, title: "Invalid reply.", detail: "Send JSON (generic, aliyun) or a Twilio form.");

        var unsubscribed = 0;
        foreach (var (from, text) in replies.Where(r => IsStop(r.Text)))
        {
            foreach (var customer in await store.CustomersWithContactAsync("phone", from.Trim(), cancellationToken))
            {
                await store.RecordConsentAsync([new ConsentChange(customer, ChannelNames.Sms, Topics.Marketing, false, "sms-reply", time.GetUtcNow())], cancellationToken);
                await events.AppendAsync(customer, "Unsubscribed", new Dictionary<string, object?> { ["channel"] = ChannelNames.Sms, ["reply"] = text.Trim() },
                    $"sms-stop:{customer}:{time.GetUtcNow().ToUnixTimeMilliseconds()}", cancellationToken);
                unsubscribed++;
            }
        }

        return format == "twilio" ? Results.Content("<Response/>", "text/xml") : Results.Ok(new { replies = replies.Count, unsubscribed });
    }

    /// <summary>Aliyun posts an array of entries; the generic format posts one object.</summary>
    private static List<JsonElement> Items(JsonElement root) => root.ValueKind == JsonValueKind.Array ? [.. root.EnumerateArray()] : [root];

    private static bool Authorised(string? key, DeliverySettings settings) =>
        settings.Sms?.CallbackKey is { } expected && key is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(expected));

    private static IResult Refused() => Results.Problem(statusCode: 401, title: "Invalid callback key.",
        detail: "SMS callbacks need ?key= with the sms.callbackKey of the delivery settings.");

    private static async Task<JsonDocument?> JsonBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > 1024 * 1024) return null;
        try
        {
            return await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
