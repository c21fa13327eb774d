namespace Nudge.Engine.Imports;

/// <summary>
/// Which CSV column holds which field. Headers match field names loosely (<c>User ID</c>, <c>userId</c>
/// and <c>user_id</c> are the same); <c>--map Column=field</c> names the rest, e.g. the UCI Online
/// Retail layout's <c>InvoiceNo=order_id</c>.
/// </summary>
public sealed class ImportColumns
{
    private static readonly Dictionary<ImportKind, string[]> Fields = new()
    {
        [ImportKind.Customers] = ["user_id", "anonymous_id", "email", "phone", "name", "first_name", "last_name", "birthday", "gender", "city",
            "country", "timezone", "locale", "signup_source", "timestamp", "tags", "consent"],
        [ImportKind.Orders] = ["order_id", "user_id", "timestamp", "sku", "product_id", "quantity", "price", "currency", "name", "category", "brand",
            "discount", "coupon"],
        [ImportKind.Products] = ["product_id", "sku", "name", "category", "brand", "price", "currency", "stock", "url", "image_url"],
        [ImportKind.Events] = ["type", "event", "user_id", "anonymous_id", "timestamp", "message_id", "properties"],
    };

    // Common spellings of the same field in shop exports, by normalised header.
    private static readonly Dictionary<string, string> Synonyms = new(StringComparer.Ordinal)
    {
        ["customerid"] = "user_id", ["userid"] = "user_id", ["time"] = "timestamp", ["date"] = "timestamp", ["createdat"] = "timestamp",
        ["ordertime"] = "timestamp", ["orderdate"] = "timestamp", ["unitprice"] = "price", ["qty"] = "quantity", ["productid"] = "product_id",
        ["imageurl"] = "image_url", ["eventname"] = "event", ["messageid"] = "message_id", ["anonymousid"] = "anonymous_id",
    };

    private readonly Dictionary<string, int> _fields = new(StringComparer.Ordinal);

    private ImportColumns(string[] header) => Header = header;

    /// <summary>The header row as written in the file.</summary>
    public string[] Header { get; }

    /// <summary>Columns that are not a known field, as (index, name): custom traits or event properties.</summary>
    public List<(int Index, string Name)> Extra { get; } = [];

    /// <summary>The field names a kind understands.</summary>
    public static IReadOnlyList<string> FieldsOf(ImportKind kind) => Fields[kind];

    /// <summary>Matches the header to fields; throws <see cref="FormatException"/> naming a bad <c>--map</c>.</summary>
    public static ImportColumns Create(ImportKind kind, string[] header, IReadOnlyDictionary<string, string> map)
    {
        foreach (var source in map.Keys)
        {
            if (!header.Contains(source, StringComparer.OrdinalIgnoreCase))
                throw new FormatException($"--map {source}=...: the file has no column '{source}'. Its columns are: {string.Join(", ", header)}.");
        }

        var known = Fields[kind];
        var columns = new ImportColumns(header);
        for (var i = 0; i < header.Length; i++)
        {
            var mapped = map.FirstOrDefault(m => m.Key.Equals(header[i], StringComparison.OrdinalIgnoreCase)).Value;
            var name = Normalize(mapped ?? header[i]);
            var field = known.FirstOrDefault(f => Normalize(f) == name)
                ?? (Synonyms.TryGetValue(name, out var synonym) && known.Contains(synonym) ? synonym : null);
            if (field is not null)
            {
                columns._fields.TryAdd(field, i);
            }
            else if (mapped is not null && kind is ImportKind.Orders or ImportKind.Products)
            {
                throw new FormatException($"--map {header[i]}={mapped}: '{mapped}' is not a field of {kind.ToString().ToLowerInvariant()}. Fields: {string.Join(", ", known)}.");
            }
            else
            {
                columns.Extra.Add((i, mapped ?? header[i]));
            }
        }

        return columns;
    }

    /// <summary>The column index of a field, or -1.</summary>
    public int IndexOf(string field) => _fields.TryGetValue(field, out var i) ? i : -1;

    /// <summary>The column name holding a field (for error reports), or the field name when absent.</summary>
    public string ColumnOf(string field) => _fields.TryGetValue(field, out var i) ? Header[i] : field;

    /// <summary>The trimmed value of a field in a record; null when the column is absent or the cell empty.</summary>
    public string? Get(CsvRecord record, string field)
    {
        var i = IndexOf(field);
        if (i < 0 || i >= record.Fields.Length) return null;
        var value = record.Fields[i].Trim();
        return value.Length == 0 ? null : value;
    }

    private static string Normalize(string name) =>
        new([.. name.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant)]);
}
