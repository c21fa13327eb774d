using Microsoft.AspNetCore.Http.HttpResults;

namespace Nudge.Server.Api;

/// <summary>RFC 9457 problem details, the one error shape of every Nudge API.</summary>
public static class Problems
{
    public static ProblemHttpResult Create(int status, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, extensions: extensions);

    public static ProblemHttpResult BadRequest(string title, string detail, IDictionary<string, object?>? extensions = null) =>
        Create(StatusCodes.Status400BadRequest, title, detail, extensions);

    public static ProblemHttpResult NotFound(string detail) => Create(StatusCodes.Status404NotFound, "Not found.", detail);
}
