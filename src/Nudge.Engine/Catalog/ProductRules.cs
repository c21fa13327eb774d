namespace Nudge.Engine.Catalog;

/// <summary>What makes a product valid, shared by the API and CSV import.</summary>
public static class ProductRules
{
    /// <summary>Longest product id accepted.</summary>
    public const int MaxIdLength = 200;

    /// <summary>Problems with the product as (field, detail); empty when it is valid.</summary>
    public static IReadOnlyList<(string Field, string Detail)> Validate(Product product)
    {
        List<(string, string)> problems = [];
        if (string.IsNullOrWhiteSpace(product.ProductId)) problems.Add(("productId", "is required"));
        else if (product.ProductId.Length > MaxIdLength) problems.Add(("productId", $"is longer than {MaxIdLength} characters"));
        if (product.Price < 0) problems.Add(("price", "must not be negative"));
        if (product.Stock < 0) problems.Add(("stock", "must not be negative"));
        if (product.Currency is { } c && (c.Length != 3 || !c.All(char.IsAsciiLetterUpper)))
            problems.Add(("currency", $"\"{c}\" is not an ISO 4217 code such as CNY, USD or GBP"));
        if (product.Price is not null && product.Currency is null) problems.Add(("currency", "is required when a price is given"));
        return problems;
    }
}
