using System.Data.Common;
using System.Globalization;
using Nudge.Engine.Catalog;

namespace Nudge.Storage;

public abstract partial class SqlStore
{
    private const string ProductColumns = "product_id, sku, name, category, brand, price, currency, stock, url, image_url";

    public async Task<IReadOnlyList<CatalogChange>> UpsertProductsAsync(IReadOnlyList<Product> products, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        var (connection, tx) = (write.Connection, write.Transaction);
        List<CatalogChange> changes = [];
        foreach (var product in products)
        {
            var before = await GetProductAsync(connection, tx, product.ProductId, cancellationToken);
            if (before == product) continue;
            await ExecuteAsync(connection, tx,
                $"""
                INSERT INTO products ({ProductColumns}, created_at, updated_at)
                VALUES (@id, @sku, @name, @category, @brand, @price, @currency, @stock, @url, @image, @at, @at)
                ON CONFLICT (product_id) DO UPDATE SET sku = excluded.sku, name = excluded.name, category = excluded.category,
                  brand = excluded.brand, price = excluded.price, currency = excluded.currency, stock = excluded.stock,
                  url = excluded.url, image_url = excluded.image_url, updated_at = excluded.updated_at
                """,
                cancellationToken,
                ("id", product.ProductId), ("sku", product.Sku), ("name", product.Name), ("category", product.Category), ("brand", product.Brand),
                ("price", product.Price is decimal p ? MoneyValue(p) : null), ("currency", product.Currency), ("stock", product.Stock),
                ("url", product.Url), ("image", product.ImageUrl), ("at", at.ToUnixTimeMilliseconds()));

            if (before is null)
            {
                changes.Add(await RecordChangeAsync(connection, tx, product.ProductId, CatalogChangeKind.Created, null, null, at, cancellationToken));
                continue;
            }

            if (before.Price != product.Price)
                changes.Add(await RecordChangeAsync(connection, tx, product.ProductId, CatalogChangeKind.Price, Text(before.Price), Text(product.Price), at, cancellationToken));
            if (before.Stock != product.Stock)
                changes.Add(await RecordChangeAsync(connection, tx, product.ProductId, CatalogChangeKind.Stock, Text(before.Stock), Text(product.Stock), at, cancellationToken));
        }

        await tx.CommitAsync(cancellationToken);
        return changes;
    }

    public async Task<bool> DeleteProductAsync(string productId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var write = await BeginWriteAsync(cancellationToken);
        var (connection, tx) = (write.Connection, write.Transaction);
        if (await ExecuteAsync(connection, tx, "DELETE FROM products WHERE product_id = @id", cancellationToken, ("id", productId)) == 0) return false;
        await RecordChangeAsync(connection, tx, productId, CatalogChangeKind.Deleted, null, null, at, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<Product?> GetProductAsync(string productId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await GetProductAsync(connection, null, productId, cancellationToken);
    }

    public async Task<IReadOnlyList<Product>> ListProductsAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, $"SELECT {ProductColumns} FROM products WHERE product_id > @after ORDER BY product_id LIMIT @limit",
            ("after", after ?? ""), ("limit", limit));
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        List<Product> products = [];
        while (await reader.ReadAsync(cancellationToken)) products.Add(ReadProduct(reader));
        return products;
    }

    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> ProductListingTimesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT product_id, created_at FROM products");
        Dictionary<string, DateTimeOffset> times = new(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) times[reader.GetString(0)] = FromMs(reader.GetInt64(1));
        return times;
    }

    public async Task<IReadOnlyList<CatalogChange>> ReadCatalogChangesAsync(long after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null,
            "SELECT position, product_id, kind, old_value, new_value, at FROM catalog_changes WHERE position > @after ORDER BY position LIMIT @limit",
            ("after", after), ("limit", limit));
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        List<CatalogChange> changes = [];
        while (await reader.ReadAsync(cancellationToken))
        {
            changes.Add(new CatalogChange(reader.GetInt64(0), reader.GetString(1), Enum.Parse<CatalogChangeKind>(reader.GetString(2), ignoreCase: true),
                NullableString(reader, 3), NullableString(reader, 4), FromMs(reader.GetInt64(5))));
        }

        return changes;
    }

    private async Task<Product?> GetProductAsync(DbConnection connection, DbTransaction? tx, string productId, CancellationToken cancellationToken)
    {
        await using var cmd = Command(connection, tx, $"SELECT {ProductColumns} FROM products WHERE product_id = @id{(tx is null ? "" : LockForUpdate)}", ("id", productId));
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadProduct(reader) : null;
    }

    private static async Task<CatalogChange> RecordChangeAsync(DbConnection connection, DbTransaction tx, string productId, CatalogChangeKind kind,
        string? oldValue, string? newValue, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var cmd = Command(connection, tx,
            "INSERT INTO catalog_changes (product_id, kind, old_value, new_value, at) VALUES (@id, @kind, @old, @new, @at) RETURNING position",
            ("id", productId), ("kind", kind.ToString().ToLowerInvariant()), ("old", oldValue), ("new", newValue), ("at", at.ToUnixTimeMilliseconds()));
        var position = Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        return new CatalogChange(position, productId, kind, oldValue, newValue, at);
    }

    private static Product ReadProduct(DbDataReader r) => new(
        r.GetString(0), NullableString(r, 1), NullableString(r, 2), NullableString(r, 3), NullableString(r, 4),
        r.IsDBNull(5) ? null : Convert.ToDecimal(r.GetValue(5), CultureInfo.InvariantCulture),
        NullableString(r, 6), r.IsDBNull(7) ? null : Convert.ToInt32(r.GetValue(7), CultureInfo.InvariantCulture),
        NullableString(r, 8), NullableString(r, 9));

    private static string? Text(decimal? value) => value?.ToString(CultureInfo.InvariantCulture);

    private static string? Text(int? value) => value?.ToString(CultureInfo.InvariantCulture);
}
