using Nudge.Server.Auth;

namespace Nudge.Server.Api;

/// <summary>The management API takes the admin key as a Bearer token; a write key is refused (403).</summary>
public sealed class AdminAuth(ApiKeys keys) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        keys.Check(Credentials.Bearer(context.HttpContext.Request)) switch
        {
            KeyKind.Admin => next(context),
            KeyKind.Write => ValueTask.FromResult<object?>(Problems.Create(StatusCodes.Status403Forbidden, "This key cannot manage the engine.",
                "A write key only sends events. Use the admin key: Authorization: Bearer <admin key>.")),
            _ => ValueTask.FromResult<object?>(Problems.Create(StatusCodes.Status401Unauthorized, "The admin key is required.",
                "Send Authorization: Bearer <admin key>. The key was printed on first start, or set it with NUDGE_ADMIN_KEY.")),
        };
}
