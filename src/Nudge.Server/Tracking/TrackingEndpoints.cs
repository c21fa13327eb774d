using System.Net;
using Nudge.Engine.Customers;
using Nudge.Engine.Messaging;
using Nudge.Runtime.Delivery;
using Nudge.Storage;
using Nudge.Runtime.Customers;

namespace Nudge.Server.Tracking;

/// <summary>
/// Open pixel, click redirect and unsubscribe. Tokens are signed and name a message and a link number,
/// never a URL: a click leads only to the URL recorded for that message, and an edited token is a 400.
/// Unsubscribe follows RFC 8058: a GET shows a page and changes nothing; the one-click POST unsubscribes
/// at once, without cookies or a redirect.
/// </summary>
public static class TrackingEndpoints
{
    // The smallest transparent GIF.
    private static readonly byte[] Pixel = Convert.FromBase64String("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");

    public static IEndpointRouteBuilder MapTracking(this IEndpointRouteBuilder app)
    {
        var t = app.MapGroup("/t").WithTags("Tracking").ExcludeFromDescription();
        t.MapGet("/o/{token}", OpenAsync);
        t.MapGet("/c/{token}", ClickAsync);
        t.MapGet("/u/{token}", UnsubscribePage);
        t.MapPost("/u/{token}", UnsubscribeAsync).DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> OpenAsync(string token, TrackingKeyring keyring, INudgeStore store, CustomerEvents events, CancellationToken cancellationToken)
    {
        // A pixel always answers with the image; a bad token just records nothing.
        if (keyring.Tokens.TryRead(token, TrackingKind.Open, out var id, out _) && await store.GetMessageAsync(id, cancellationToken) is { } message)
            await events.AppendAsync(message.Intent.CustomerId, EngagementEvents.MessageOpened, Properties(message), $"open:{id}", cancellationToken);
        return Results.File(Pixel, "image/gif");
    }

    private static async Task<IResult> ClickAsync(string token, TrackingKeyring keyring, INudgeStore store, CustomerEvents events, CancellationToken cancellationToken)
    {
        if (!keyring.Tokens.TryRead(token, TrackingKind.Click, out var id, out var link)) return BadLink();
        if (await store.GetMessageAsync(id, cancellationToken) is not { } message || await store.GetMessageLinkAsync(id, link, cancellationToken) is not { } url) return BadLink();
        var properties = Properties(message);
        properties["url"] = url;
        properties["link"] = link;
        await events.AppendAsync(message.Intent.CustomerId, EngagementEvents.MessageClicked, properties, $"click:{id}:{link}", cancellationToken);
        return Results.Redirect(url);
    }

    private static IResult UnsubscribePage(string token, TrackingKeyring keyring)
    {
        if (!keyring.Tokens.TryRead(token, TrackingKind.Unsubscribe, out _, out _)) return BadLink();
        return Page("Unsubscribe", $"""
            <p>Stop receiving these messages? / 不再接收此类消息？</p>
            <form method="post" action="/t/u/{WebUtility.HtmlEncode(token)}"><input type="hidden" name="List-Unsubscribe" value="One-Click">
            <button type="submit">Unsubscribe / 退订</button></form>
            """);
    }

    private static async Task<IResult> UnsubscribeAsync(string token, TrackingKeyring keyring, INudgeStore store, CustomerEvents events, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!keyring.Tokens.TryRead(token, TrackingKind.Unsubscribe, out var id, out _) || await store.GetMessageAsync(id, cancellationToken) is not { } message)
            return BadLink();
        var channel = message.Channel ?? message.Intent.Channel;
        // The ledger entry binds before the next send: delivery reads the ledger for every decision.
        await store.RecordConsentAsync([new ConsentChange(message.Intent.CustomerId, channel, Topics.Marketing, false, "unsubscribe", time.GetUtcNow())], cancellationToken);
        await events.AppendAsync(message.Intent.CustomerId, "Unsubscribed", Properties(message), $"unsubscribe:{id}", cancellationToken);
        return Page("Unsubscribed", "<p>You are unsubscribed. / 您已退订。</p>");
    }

    private static Dictionary<string, object?> Properties(MessageRecord message) => new()
    {
        ["message_id"] = message.Id, ["channel"] = message.Channel ?? message.Intent.Channel, ["template"] = message.Intent.TemplateId, ["source"] = message.Intent.Source,
    };

    private static IResult BadLink() => Results.Problem(statusCode: 400, title: "Invalid link.", detail: "This link is not valid: it may have been changed or cut short.");

    private static IResult Page(string title, string body) => Results.Content(
        $"<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head><body>{body}</body></html>",
        "text/html; charset=utf-8");
}
