using Nudge.Server.Auth;

namespace Nudge.Server.Api;

/// <summary>
/// The management API takes the admin key as a Bearer token; a write key is refused (403). It runs as
/// middleware on /api, before routing binds parameters, so an unauthenticated request learns nothing
/// about the API, not even that a query parameter was malformed.
/// </summary>
public sealed class AdminAuth(RequestDelegate next, ApiKeys keys)
{
    public Task InvokeAsync(HttpContext context) =>
        keys.Check(Credentials.Bearer(context.Request)) switch
        {
            KeyKind.Admin => next(context),
            KeyKind.Write => Problems.Create(StatusCodes.Status403Forbidden, "This key cannot manage the engine.",
                "A write key only sends events. Use the admin key: Authorization: Bearer <admin key>.").ExecuteAsync(context),
            _ => Problems.Create(StatusCodes.Status401Unauthorized, "The admin key is required.",
                "Send Authorization: Bearer <admin key>. The key was printed on first start, or set it with NUDGE_ADMIN_KEY.").ExecuteAsync(context),
        };
}
