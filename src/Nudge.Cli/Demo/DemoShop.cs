using System.Globalization;
using Nudge.Engine.Catalog;

namespace Nudge.Cli.Demo;

/// <summary>A product of the demo shop, with what shoppers need to know about it.</summary>
/// <param name="Product">The catalog entry as the engine stores it.</param>
/// <param name="Consumable">Bought again on a cycle (milk powder, diapers, snacks), not once.</param>
internal sealed record DemoProduct(Product Product, bool Consumable)
{
    public string Id => Product.ProductId;

    public decimal Price => Product.Price ?? 0;

    public string Category => Product.Category!;
}

/// <summary>
/// The synthetic shop: a few hundred products in five categories, with prices and stock, and the
/// catalog's life during the run (price drops, sell-outs and restocks), all from the seed.
/// </summary>
internal sealed class DemoShop
{
    public const string Url = "https://shop.example";

    // Category, brands, product names, price range, consumable.
    private static readonly (string Category, string[] Brands, string[] Names, int Low, int High, bool Consumable)[] Lines =
    [
        ("母婴", ["贝亲", "花王", "飞鹤"], ["奶瓶", "纸尿裤", "婴儿奶粉", "湿巾", "婴儿润肤乳", "安抚奶嘴", "辅食米粉", "婴儿推车"], 29, 899, true),
        ("美妆", ["自然堂", "百雀羚", "完美日记"], ["面霜", "精华液", "口红", "眼影盘", "洁面乳", "防晒霜", "面膜", "卸妆水"], 39, 599, true),
        ("运动", ["李宁", "安踏", "特步"], ["跑鞋", "运动T恤", "瑜伽垫", "运动水壶", "护膝", "速干裤", "羽毛球拍", "运动背包"], 49, 799, false),
        ("数码", ["小米", "华为", "漫步者"], ["蓝牙耳机", "充电宝", "智能手环", "数据线", "机械键盘", "移动硬盘", "平板支架", "音箱"], 29, 1999, false),
        ("食品", ["三只松鼠", "良品铺子", "百草味"], ["坚果礼盒", "牛肉干", "果干", "咖啡豆", "燕麦片", "茶叶", "巧克力", "饼干"], 15, 299, true),
    ];

    private readonly Random _random;

    public DemoShop(int seed, int productsPerCategory = 60)
    {
        _random = new Random(seed);
        List<DemoProduct> products = [];
        foreach (var line in Lines)
        {
            for (var i = 0; i < productsPerCategory; i++)
            {
                var brand = line.Brands[i % line.Brands.Length];
                var name = line.Names[i % line.Names.Length];
                // Prices cluster at the low end, as in most shops, and end in 9.
                var price = Math.Round(line.Low + (line.High - line.Low) * Math.Pow(_random.NextDouble(), 2.2)) + 0.9;
                var id = $"p{products.Count + 1:000}";
                var stock = _random.NextDouble() < 0.05 ? 0 : _random.Next(20, 500);
                products.Add(new DemoProduct(new Product(id, null, $"{brand} {name} {i / line.Names.Length + 1}号", line.Category, brand, (decimal)price, "CNY", stock,
                    $"{Url}/p/{id}", $"{Url}/img/{id}.jpg"), line.Consumable));
            }
        }

        Products = products;
        Categories = [.. Lines.Select(l => l.Category)];
        ByCategory = products.GroupBy(p => p.Category).ToDictionary(g => g.Key, g => g.ToArray());
    }

    public IReadOnlyList<DemoProduct> Products { get; }

    public IReadOnlyList<string> Categories { get; }

    public IReadOnlyDictionary<string, DemoProduct[]> ByCategory { get; }

    /// <summary>
    /// The catalog's changes for one day: a few price drops, a few sell-outs, and restocks of what sold
    /// out. Returns the products as they are now, to be written through the products API.
    /// </summary>
    public List<Product> ChangesForDay()
    {
        Dictionary<string, Product> changed = [];
        var current = Products.ToDictionary(p => p.Id, p => p.Product);
        for (var i = 0; i < 3; i++)
        {
            var p = current[Products[_random.Next(Products.Count)].Id];
            var cut = 0.1m + (decimal)_random.NextDouble() * 0.2m;
            changed[p.ProductId] = p with { Price = Math.Round(p.Price!.Value * (1 - cut), 1) };
        }

        for (var i = 0; i < 2; i++)
        {
            var p = current[Products[_random.Next(Products.Count)].Id];
            changed[p.ProductId] = p with { Stock = 0 };
        }

        foreach (var p in current.Values.Where(p => p.Stock == 0 && !changed.ContainsKey(p.ProductId)))
            if (_random.NextDouble() < 0.3) changed[p.ProductId] = p with { Stock = _random.Next(20, 200) };

        foreach (var p in changed.Values) Update(p);
        return [.. changed.Values.OrderBy(p => p.ProductId, StringComparer.Ordinal)];
    }

    private void Update(Product product)
    {
        var list = (List<DemoProduct>)Products;
        var index = list.FindIndex(p => p.Id == product.ProductId);
        list[index] = list[index] with { Product = product };
        var byCategory = ByCategory[product.Category!];
        byCategory[Array.FindIndex(byCategory, p => p.Id == product.ProductId)] = list[index];
    }

    public DemoProduct Find(string id) => Products[int.Parse(id.AsSpan(1), CultureInfo.InvariantCulture) - 1];
}
