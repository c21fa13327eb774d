using Microsoft.AspNetCore.Http.HttpResults;
using MimeKit;
using Nudge.Channels.Email;

namespace Nudge.Server.Api;

/// <summary>A caught message in a list: who, what, when.</summary>
public sealed record CaughtMailSummary(long Id, string From, IReadOnlyList<string> To, string? Subject, DateTimeOffset ReceivedAt);

/// <summary>A caught message in full: every header, the text part, and whether there is an HTML part.</summary>
public sealed record CaughtMailView(long Id, string From, IReadOnlyList<string> To, string? Subject, DateTimeOffset ReceivedAt,
    IReadOnlyList<KeyValuePair<string, string>> Headers, string? Text, bool HasHtml);

/// <summary>
/// The mail caught by <c>nudge serve --catch-mail</c> (and <c>nudge demo</c>): every message delivery
/// sent, kept for preview instead of reaching anyone. 404 with the way to turn it on when it is off.
/// </summary>
public static class MailApi
{
    public static RouteGroupBuilder MapMailApi(this RouteGroupBuilder api)
    {
        var mail = api.MapGroup("/mail").WithTags("Caught mail");
        mail.MapGet("/", List).WithSummary("Caught messages, newest first (with --catch-mail)");
        mail.MapGet("/{id:long}", Get).WithSummary("One caught message: headers and text");
        mail.MapGet("/{id:long}/html", Html).WithSummary("The HTML part of a caught message, as the customer would see it");
        mail.MapGet("/{id:long}/raw", Raw).WithSummary("A caught message exactly as it was sent (message/rfc822)");
        return api;
    }

    private static Results<Ok<List<CaughtMailSummary>>, ProblemHttpResult> List(IServiceProvider services, long? before, int? limit)
    {
        if (services.GetService<MailCatcher>() is not { } catcher) return Off();
        if (limit is < 1 or > 1000) return Problems.BadRequest("Invalid limit.", "limit: must be between 1 and 1000.");
        return TypedResults.Ok(catcher.Messages.Where(m => before is null || m.Id < before).Reverse().Take(limit ?? 50)
            .Select(m => new CaughtMailSummary(m.Id, m.From, m.To, Parse(m).Subject, m.ReceivedAt)).ToList());
    }

    private static Results<Ok<CaughtMailView>, ProblemHttpResult> Get(long id, IServiceProvider services)
    {
        if (services.GetService<MailCatcher>() is not { } catcher) return Off();
        if (catcher.Find(id) is not { } caught) return Gone(id);
        var message = Parse(caught);
        return TypedResults.Ok(new CaughtMailView(caught.Id, caught.From, caught.To, message.Subject, caught.ReceivedAt,
            [.. message.Headers.Select(h => new KeyValuePair<string, string>(h.Field, h.Value))], message.TextBody, message.HtmlBody is not null));
    }

    private static Results<ContentHttpResult, ProblemHttpResult> Html(long id, IServiceProvider services)
    {
        if (services.GetService<MailCatcher>() is not { } catcher) return Off();
        if (catcher.Find(id) is not { } caught) return Gone(id);
        return Parse(caught).HtmlBody is { } html ? TypedResults.Content(html, "text/html; charset=utf-8") : Problems.NotFound($"Message {id} has no HTML part.");
    }

    private static Results<FileContentHttpResult, ProblemHttpResult> Raw(long id, IServiceProvider services)
    {
        if (services.GetService<MailCatcher>() is not { } catcher) return Off();
        return catcher.Find(id) is { } caught ? TypedResults.File(System.Text.Encoding.UTF8.GetBytes(caught.Data), "message/rfc822", $"{id}.eml") : Gone(id);
    }

    /// <summary>Parses a caught message (MimeKit reads what MailKit wrote).</summary>
    public static MimeMessage Parse(CaughtMail caught)
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(caught.Data));
        return MimeMessage.Load(stream);
    }

    private static ProblemHttpResult Off() =>
        Problems.NotFound("Mail is not being caught. Start the engine with `nudge serve --catch-mail` to keep every email for preview here instead of sending it.");

    private static ProblemHttpResult Gone(long id) => Problems.NotFound($"There is no caught message {id}: the newest {Nudge.Server.Operations.MailCatching.Keep} are kept.");
}
