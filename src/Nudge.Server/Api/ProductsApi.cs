using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Nudge.Engine.Catalog;
using Nudge.Server.Ingestion;
using Nudge.Storage;

namespace Nudge.Server.Api;

public static class ProductsApi
{
    private const int MaxPage = 1000;
    private const int MaxBodyBytes = 64 * 1024;

    public static RouteGroupBuilder MapProductsApi(this RouteGroupBuilder api)
    {
        var products = api.MapGroup("/products").WithTags("Catalog");
        products.MapGet("/", ListAsync).WithSummary("Products ordered by id, paged");
        products.MapGet("/{id}", GetAsync).WithSummary("One product");
        products.MapPut("/{id}", PutAsync).Accepts<Product>("application/json")
            .WithSummary("Create or replace a product")
            .WithDescription("A changed price or stock is recorded as a catalog change (journeys react to price drops and back-in-stock).");
        products.MapDelete("/{id}", DeleteAsync).WithSummary("Remove a product");
        api.MapGet("/catalog/changes", ChangesAsync).WithTags("Catalog").WithSummary("Price and stock changes in order, paged by position");
        return api;
    }

    private static async Task<Results<Ok<ProductPage>, ProblemHttpResult>> ListAsync(INudgeStore store, CancellationToken cancellationToken, string? after = null, int limit = 100)
    {
        if (limit is < 1 or > MaxPage) return Problems.BadRequest("Invalid query.", $"limit must be between 1 and {MaxPage}.");
        var products = await store.ListProductsAsync(after, limit, cancellationToken);
        return TypedResults.Ok(new ProductPage(products, products.Count == limit ? products[^1].ProductId : null));
    }

    private static async Task<Results<Ok<Product>, ProblemHttpResult>> GetAsync(string id, INudgeStore store, CancellationToken cancellationToken) =>
        await store.GetProductAsync(id, cancellationToken) is { } product ? TypedResults.Ok(product) : Problems.NotFound($"No product has the id '{id}'.");

    private static async Task<Results<Ok<ProductWritten>, ProblemHttpResult>> PutAsync(
        string id, HttpRequest request, INudgeStore store, NudgeOptions options, Nudge.Runtime.Journeys.CatalogSignal signal, CancellationToken cancellationToken)
    {
        using var body = await RequestBody.ReadAsync(request, MaxBodyBytes, cancellationToken);
        if (body.Error is not null) return Problems.BadRequest("The product was rejected.", body.Error);
        Product? product;
        try
        {
            product = JsonSerializer.Deserialize(body.Memory.Span, NudgeJson.Default.Product);
        }
        catch (JsonException e)
        {
            return Problems.BadRequest("The product was rejected.", $"The body is not a valid product: {e.Message}",
                new Dictionary<string, object?> { ["field"] = e.Path?.TrimStart('$', '.') });
        }

        if (product is null) return Problems.BadRequest("The product was rejected.", "The body must be a JSON object describing the product.");
        if (product.ProductId is not null && product.ProductId != id)
            return Problems.BadRequest("The product was rejected.", $"productId '{product.ProductId}' in the body differs from '{id}' in the URL.");
        product = product with { ProductId = id };
        var problems = ProductRules.Validate(product);
        if (problems.Count > 0)
        {
            return Problems.BadRequest("The product was rejected.", string.Join("; ", problems.Select(p => $"{p.Field}: {p.Detail}")),
                new Dictionary<string, object?> { ["errors"] = problems.Select(p => new { field = p.Field, detail = p.Detail }).ToArray() });
        }

        var changes = await store.UpsertProductsAsync([product], options.Time.GetUtcNow(), cancellationToken);
        if (changes.Count > 0) signal.Pulse();
        return TypedResults.Ok(new ProductWritten(product, changes));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, INudgeStore store, NudgeOptions options, CancellationToken cancellationToken) =>
        await store.DeleteProductAsync(id, options.Time.GetUtcNow(), cancellationToken) ? TypedResults.NoContent() : Problems.NotFound($"No product has the id '{id}'.");

    private static async Task<Results<Ok<IReadOnlyList<CatalogChange>>, ProblemHttpResult>> ChangesAsync(
        INudgeStore store, CancellationToken cancellationToken, long after = 0, int limit = 100)
    {
        if (limit is < 1 or > MaxPage) return Problems.BadRequest("Invalid query.", $"limit must be between 1 and {MaxPage}.");
        return TypedResults.Ok(await store.ReadCatalogChangesAsync(after, limit, cancellationToken));
    }
}
