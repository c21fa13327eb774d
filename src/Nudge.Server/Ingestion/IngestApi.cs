using Nudge.Engine.Events;

namespace Nudge.Server.Ingestion;

public static class IngestApi
{
    /// <summary>The CORS policy of /v1: any origin may POST events.</summary>
    public const string CorsPolicy = "ingestion";

    /// <summary>The Segment HTTP Tracking API, so existing Segment and RudderStack SDKs can send to Nudge unchanged.</summary>
    public static IEndpointRouteBuilder MapIngestApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("Ingestion (Segment HTTP Tracking API)").RequireCors(CorsPolicy);
        foreach (var type in Enum.GetValues<EventType>())
        {
            v1.MapPost("/" + type.ToWire(), (HttpContext context, IngestHandler handler) => handler.HandleAsync(context, type))
                .WithSummary($"Send one {type.ToWire()} message")
                .WithDescription("Write key as HTTP Basic user name (empty password) or `writeKey` in the body. 32 KB per message. " +
                    "Answers `{\"success\":true}` once the event is durably committed.");
        }

        foreach (var path in new[] { "/batch", "/import" })
        {
            v1.MapPost(path, (HttpContext context, IngestHandler handler) => handler.HandleAsync(context, null))
                .WithSummary("Send up to 2,500 messages of any type")
                .WithDescription("`{\"batch\":[...], \"sentAt\": ...}`, at most 500 KB (gzip accepted). Valid messages are kept even when others are rejected; " +
                    "a 400 lists each rejected message by index and field.");
        }

        return app;
    }
}
