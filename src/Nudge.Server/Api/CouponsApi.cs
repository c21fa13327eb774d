using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Nudge.Engine.Coupons;
using Nudge.Runtime.Delivery;
using Nudge.Storage;

namespace Nudge.Server.Api;

/// <summary>Coupon campaigns: define, fill a pool, issue by hand, and see issued / redeemed / revenue.</summary>
public static partial class CouponsApi
{
    private const int MaxCodesPerImport = 100_000;

    public static RouteGroupBuilder MapCouponsApi(this RouteGroupBuilder api)
    {
        var coupons = api.MapGroup("/coupons").WithTags("Coupons");
        coupons.MapGet("/", ListAsync).WithSummary("Every campaign with its numbers");
        coupons.MapGet("/{id}", GetAsync).WithSummary("A campaign with issued, redeemed, revenue and pool left");
        coupons.MapPut("/{id}", PutAsync)
            .WithSummary("Creates or replaces a campaign")
            .WithDescription("Body: `{\"name\", \"kind\": \"amount\"|\"percent\"|\"threshold\", \"value\", \"threshold\", \"source\": \"generated\"|\"pool\", \"prefix\", \"validUntil\", \"validDays\", \"perCustomer\"}`. 满200减50 is `{\"kind\": \"threshold\", \"threshold\": 200, \"value\": 50}`.");
        coupons.MapPost("/{id}/codes", AddCodesAsync)
            .WithSummary("Adds codes to a pool campaign")
            .WithDescription("Body: a JSON array of codes, or plain text with one code per line.");
        coupons.MapPost("/{id}/issue", IssueAsync).WithSummary("Issues a code to a customer by hand: `{\"customerId\": \"...\"}`");
        api.MapGet("/customers/{id}/coupons", async (string id, INudgeStore store, CancellationToken ct) =>
            TypedResults.Ok(await store.CustomerCouponsAsync(id, ct))).WithTags("Coupons").WithSummary("Codes issued to a customer and whether they were used");
        return api;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex CodePattern();

    private static async Task<Ok<List<CampaignView>>> ListAsync(Coupons coupons, INudgeStore store, CancellationToken cancellationToken)
    {
        List<CampaignView> views = [];
        foreach (var c in coupons.Campaigns) views.Add(new CampaignView(c, await store.CouponStatsAsync(c.Id, cancellationToken)));
        return TypedResults.Ok(views);
    }

    private static async Task<Results<Ok<CampaignView>, ProblemHttpResult>> GetAsync(string id, Coupons coupons, INudgeStore store, CancellationToken cancellationToken) =>
        coupons.Find(id) is { } c ? TypedResults.Ok(new CampaignView(c, await store.CouponStatsAsync(id, cancellationToken))) : NoCampaign(id);

    private static async Task<Results<Ok<CouponCampaign>, ProblemHttpResult>> PutAsync(string id, JsonElement body, Coupons coupons, CancellationToken cancellationToken)
    {
        var (campaign, errors) = await coupons.PutAsync(id, body, cancellationToken);
        return campaign is not null ? TypedResults.Ok(campaign) : Problems.BadRequest("Invalid coupon campaign.", string.Join("; ", errors));
    }

    private static async Task<Results<Ok<CodesAdded>, ProblemHttpResult>> AddCodesAsync(string id, HttpRequest request, Coupons coupons, INudgeStore store, CancellationToken cancellationToken)
    {
        if (coupons.Find(id) is not { } campaign) return NoCampaign(id);
        if (campaign.Source != "pool") return Problems.Create(StatusCodes.Status409Conflict, "Not a pool campaign.", $"'{id}' generates its codes; set \"source\": \"pool\" to import codes.");
        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync(cancellationToken);
        List<string> codes;
        if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                codes = JsonSerializer.Deserialize(text, NudgeJson.Default.ListString) ?? [];
            }
            catch (JsonException e)
            {
                return Problems.BadRequest("Invalid codes.", $"Send a JSON array of strings, or one code per line as text/plain: {e.Message}");
            }
        }
        else codes = [.. text.Split('\n').Select(l => l.Trim().TrimEnd('\r')).Where(l => l.Length > 0)];

        if (codes.Count > MaxCodesPerImport) return Problems.BadRequest("Too many codes.", $"Send at most {MaxCodesPerImport:N0} codes at a time.");
        // Bad codes are named and left out; the good ones are kept.
        var rejected = codes.Select((c, i) => (Code: c, Line: i + 1)).Where(c => !CodePattern().IsMatch(c.Code)).Select(c => $"{c.Line}: '{c.Code}' (use 1-64 letters, digits, '-' or '_')").ToList();
        var valid = codes.Where(c => CodePattern().IsMatch(c)).Distinct(StringComparer.Ordinal).ToList();
        var added = await store.AddCouponCodesAsync(id, valid, cancellationToken);
        return TypedResults.Ok(new CodesAdded(added, valid.Count - added, rejected));
    }

    private static async Task<Results<Ok<CouponCode>, ProblemHttpResult>> IssueAsync(string id, JsonElement body, Coupons coupons, INudgeStore store, CancellationToken cancellationToken)
    {
        if (coupons.Find(id) is not { } campaign) return NoCampaign(id);
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("customerId", out var c) || c.ValueKind != JsonValueKind.String)
            return Problems.BadRequest("Invalid request.", "customerId: is required (a string).");
        if (await store.GetCustomerAsync(c.GetString()!, cancellationToken) is not { } profile) return Problems.NotFound($"No customer has the id '{c.GetString()}'.");
        var issued = await coupons.IssueAsync(campaign, profile.UserId, null, null, cancellationToken);
        return issued.Code is { } code ? TypedResults.Ok(code) : Problems.Create(StatusCodes.Status409Conflict, "No code issued.", issued.Refusal == "limit"
            ? $"{profile.UserId} already has {campaign.PerCustomer} code(s) of '{id}', its per-customer limit."
            : $"The pool of '{id}' is empty; add codes with POST /api/coupons/{id}/codes.");
    }

    private static ProblemHttpResult NoCampaign(string id) => Problems.NotFound($"There is no coupon campaign '{id}'.");
}

/// <summary>A campaign and its numbers.</summary>
public sealed record CampaignView(CouponCampaign Campaign, CouponStats Stats);

/// <summary>What a code import did.</summary>
public sealed record CodesAdded(int Added, int Duplicates, IReadOnlyList<string> Rejected);
