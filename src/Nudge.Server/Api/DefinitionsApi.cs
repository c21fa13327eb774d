using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Nudge.Engine.Definitions;
using Nudge.Engine.Rfm;
using Nudge.Engine.Segments;
using Nudge.Runtime.Definitions;

namespace Nudge.Server.Api;

/// <summary>Tag rules, lifecycle stages and RFM bands: definitions as data, editable at run time.</summary>
public static class DefinitionsApi
{
    private const string Default = "default";

    public static RouteGroupBuilder MapDefinitionsApi(this RouteGroupBuilder api)
    {
        var tags = api.MapGroup("/tags").WithTags("Tags");
        tags.MapGet("/", ListTags).WithSummary("Tag rules");
        tags.MapPut("/{name}", PutTagAsync)
            .WithSummary("Creates or updates a tag rule")
            .WithDescription("Body: `{\"kind\": \"basic|behaviour|transaction|preference\", \"description\", \"when\"?: condition, \"value\"?: source}` — see docs/tags.md.");
        tags.MapDelete("/{name}", DeleteTagAsync).WithSummary("Deletes a tag rule; customers lose the tag");

        var lifecycle = api.MapGroup("/lifecycle").WithTags("Lifecycle");
        lifecycle.MapGet("/stages", GetStages).WithSummary("Lifecycle stages, highest priority first");
        lifecycle.MapPut("/stages", PutStagesAsync).WithSummary("Replaces the lifecycle stages (an array, highest priority first)");

        var rfm = api.MapGroup("/rfm").WithTags("RFM");
        rfm.MapGet("/", GetRfm).WithSummary("RFM bands and the current quintile cut points");
        rfm.MapPut("/bands", PutRfmAsync).WithSummary("Replaces the fixed RFM bands");
        return api;
    }

    private static Ok<List<JsonElement>> ListTags(DefinitionsRegistry registry) =>
        TypedResults.Ok(registry.Current.Tags.Select(t => CustomerView.Json(registry.Json(DefinitionsRegistry.TagKind, t.Name) ?? "{}")).ToList());

    private static async Task<Results<Ok<JsonElement>, ProblemHttpResult>> PutTagAsync(string name, JsonElement body, DefinitionChanges changes, CancellationToken cancellationToken)
    {
        if (!DefinitionParser.IsValidId(name)) return DefinitionChanges.Invalid([new DefinitionError("name", $"'{name}' is not a tag name: use 1-64 letters, digits, - or _")]);
        var (json, problem) = DefinitionChanges.WithId(body, "name", name);
        if (problem is not null) return problem;
        List<DefinitionError> errors = [];
        using var doc = JsonDocument.Parse(json!);
        if (DefinitionParser.Tag(doc.RootElement, errors) is null) return DefinitionChanges.Invalid(errors);
        await changes.SaveAsync(DefinitionsRegistry.TagKind, name, json!, cancellationToken);
        return TypedResults.Ok(doc.RootElement.Clone());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteTagAsync(string name, DefinitionChanges changes, DefinitionsRegistry registry, CancellationToken cancellationToken)
    {
        if (registry.Current.Tags.All(t => t.Name != name)) return Problems.NotFound($"No tag rule is named '{name}'. GET /api/tags lists them.");
        await changes.DeleteAsync(DefinitionsRegistry.TagKind, name, cancellationToken);
        return TypedResults.NoContent();
    }

    private static Ok<JsonElement> GetStages(DefinitionsRegistry registry) =>
        TypedResults.Ok(CustomerView.Json(registry.Json(DefinitionsRegistry.StagesKind, Default) ?? "[]"));

    private static async Task<Results<Ok<JsonElement>, ProblemHttpResult>> PutStagesAsync(JsonElement body, DefinitionChanges changes, CancellationToken cancellationToken)
    {
        List<DefinitionError> errors = [];
        if (DefinitionParser.Stages(body, errors) is null) return DefinitionChanges.Invalid(errors);
        await changes.SaveAsync(DefinitionsRegistry.StagesKind, Default, body.GetRawText(), cancellationToken);
        return TypedResults.Ok(body);
    }

    private static Ok<RfmView> GetRfm(DefinitionsRegistry registry) => TypedResults.Ok(new RfmView(registry.Current.Rfm, registry.Current.Quintiles));

    private static async Task<Results<Ok<RfmView>, ProblemHttpResult>> PutRfmAsync(JsonElement body, DefinitionChanges changes, DefinitionsRegistry registry, CancellationToken cancellationToken)
    {
        List<DefinitionError> errors = [];
        if (DefinitionParser.Rfm(body, errors) is null) return DefinitionChanges.Invalid(errors);
        await changes.SaveAsync(DefinitionsRegistry.RfmKind, Default, body.GetRawText(), cancellationToken);
        return TypedResults.Ok(new RfmView(registry.Current.Rfm, registry.Current.Quintiles));
    }
}

/// <summary>RFM bands and quintile cut points.</summary>
public sealed record RfmView(RfmSettings Bands, RfmQuintiles Quintiles);
