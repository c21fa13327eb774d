using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Nudge.Engine.Messaging;
using Nudge.Engine.Messaging.Templates;
using Nudge.Runtime;
using Nudge.Runtime.Delivery;

namespace Nudge.Server.Api;

/// <summary>Message templates, layouts and partials, and a preview for a chosen customer.</summary>
public static class TemplatesApi
{
    public static RouteGroupBuilder MapTemplatesApi(this RouteGroupBuilder api)
    {
        var templates = api.MapGroup("/templates").WithTags("Templates");
        templates.MapGet("/", (TemplateRegistry registry) => TypedResults.Ok(registry.Current.Templates.Values.OrderBy(t => t.Id, StringComparer.Ordinal).ToList()))
            .WithSummary("Every template");
        templates.MapGet("/{id}", GetAsync).WithSummary("One template");
        templates.MapPut("/{id}", PutAsync)
            .WithSummary("Creates or replaces a template")
            .WithDescription("Body: `{\"kind\": \"message\"|\"layout\"|\"partial\", \"layout\": \"...\", \"locales\": {\"zh-CN\": {\"subject\", \"html\", \"text\", \"sms\", \"title\", \"body\"}}}`. Liquid problems are reported with part, line and column.");
        templates.MapDelete("/{id}", DeleteAsync).WithSummary("Deletes a template no other template uses");
        templates.MapPost("/{id}/preview", PreviewAsync)
            .WithSummary("Renders a template for a customer without sending")
            .WithDescription("Body: `{\"customerId\": \"...\", \"channel\": \"email\", \"data\": {...}}`.");
        return api;
    }

    private static Results<Ok<MessageTemplate>, ProblemHttpResult> GetAsync(string id, TemplateRegistry registry) =>
        registry.Current.Templates.TryGetValue(id, out var t) ? TypedResults.Ok(t) : Problems.NotFound($"There is no template '{id}'.");

    private static async Task<Results<Ok<MessageTemplate>, ProblemHttpResult>> PutAsync(string id, JsonElement body, TemplateRegistry registry, CancellationToken cancellationToken)
    {
        var (template, errors) = await registry.PutAsync(id, body, cancellationToken);
        return template is not null ? TypedResults.Ok(template) : Invalid(errors);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, TemplateRegistry registry, CancellationToken cancellationToken)
    {
        var (found, inUseBy) = await registry.DeleteAsync(id, cancellationToken);
        if (!found) return Problems.NotFound($"There is no template '{id}'.");
        if (inUseBy is not null) return Problems.Create(StatusCodes.Status409Conflict, "Template in use.", $"Deleting '{id}' would break another template: {inUseBy}");
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<RenderedMessage>, ProblemHttpResult>> PreviewAsync(
        string id, JsonElement body, TemplateRegistry registry, RecipientLoader recipients, RuntimeOptions runtime, TimeProvider time, CancellationToken cancellationToken)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("customerId", out var c) || c.ValueKind != JsonValueKind.String)
            return Problems.BadRequest("Invalid preview.", "customerId: is required (a string).");
        var channel = body.TryGetProperty("channel", out var ch) && ch.ValueKind == JsonValueKind.String ? ch.GetString()! : ChannelNames.Email;
        if (!ChannelNames.IsChannel(channel)) return Problems.BadRequest("Invalid preview.", $"channel: must be one of {string.Join(", ", ChannelNames.All)}.");
        var now = time.GetUtcNow();
        if (await recipients.LoadAsync(c.GetString()!, now, cancellationToken) is not { } audience)
            return Problems.NotFound($"No customer has the id '{c.GetString()}'.");
        var model = audience.Model(0, "#unsubscribe");
        if (body.TryGetProperty("data", out var data) && TemplateValues.From(data) is Dictionary<string, object?> fields)
        {
            foreach (var (key, value) in fields) model.TryAdd(key, value);
            model["data"] = fields;
        }

        try
        {
            return TypedResults.Ok(registry.Current.Render(new RenderRequest(id, channel, audience.Locale, audience.Recipient.TimeZone, runtime.Currency, now, model)));
        }
        catch (TemplateRenderException e)
        {
            return Problems.BadRequest("Template does not render.", e.Message);
        }
    }

    private static ProblemHttpResult Invalid(IReadOnlyList<TemplateError> errors) => Problems.BadRequest(
        "Invalid template.", string.Join("; ", errors.Select(e => e.ToString())),
        new Dictionary<string, object?> { ["errors"] = errors.ToList() });
}
