using System.Globalization;
using System.Text.Json.Nodes;

namespace Nudge.Cli.Demo;

/// <summary>How a simulated customer tends to behave.</summary>
internal enum Persona
{
    /// <summary>Browses, rarely buys.</summary>
    Browser,

    /// <summary>Buys on a regular cycle (the replenishment journey's customers).</summary>
    Regular,

    /// <summary>Buys now and then.</summary>
    Occasional,

    /// <summary>Active at first, then stops coming (the winback journey's customers).</summary>
    Lapsing,

    /// <summary>Buys often and a lot.</summary>
    Vip,
}

/// <summary>
/// One simulated customer: who they are (traits, consent, time zone), how they shop, and how they
/// respond to messages. Every choice comes from the customer's own random stream, seeded from the
/// run's seed and their number, so a run is the same whatever order things are processed in.
/// </summary>
internal sealed class Shopper
{
    private static readonly string[] Zones = ["Asia/Shanghai", "Asia/Tokyo", "Europe/London", "America/Los_Angeles"];
    private static readonly string[] Cities = ["上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京"];
    private static readonly string[] Surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"];
    private static readonly string[] Given = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "婷"];

    private readonly Random _random;
    private int _events;

    public Shopper(int seed, int index, DateTimeOffset start, int days, DemoShop shop)
    {
        Index = index;
        Id = $"c{index + 1:00000}";
        _random = new Random(unchecked((seed * 1_000_003) + index));
        var r = _random.NextDouble();
        Persona = r < 0.35 ? Persona.Browser : r < 0.60 ? Persona.Regular : r < 0.80 ? Persona.Occasional : r < 0.95 ? Persona.Lapsing : Persona.Vip;
        // A fifth sign up during the run (the welcome journey's customers); the rest have a history.
        NewInRun = _random.NextDouble() < 0.2;
        SignedUpAt = NewInRun ? start + TimeSpan.FromDays(_random.NextDouble() * days) : start - TimeSpan.FromDays(30 + (_random.NextDouble() * 700));
        var zone = _random.NextDouble() switch { < 0.88 => 0, < 0.92 => 1, < 0.96 => 2, _ => 3 };
        TimeZone = Zones[zone];
        Locale = zone == 0 ? "zh-CN" : "en";
        Email = _random.NextDouble() < 0.85 ? $"{Id}@mail.example" : null;
        Phone = _random.NextDouble() < 0.6 ? $"+86139{index:00000000}" : null;
        EmailConsent = Email is not null && _random.NextDouble() < 0.7;
        SmsConsent = Phone is not null && _random.NextDouble() < 0.35;
        WeComConsent = Phone is not null && _random.NextDouble() < 0.12;
        DingTalkConsent = Phone is not null && _random.NextDouble() < 0.05;
        Birthday = _random.NextDouble() < 0.7 ? new DateOnly(1970 + _random.Next(35), 1 + _random.Next(12), 1 + _random.Next(28)) : null;
        Favourites = [.. shop.Categories.OrderBy(_ => _random.Next()).Take(1 + _random.Next(2))];
        Engagement = 0.4 + (_random.NextDouble() * 0.9);
        CouponLover = _random.NextDouble() < 0.3;
        (VisitsPerDay, CycleDays) = Persona switch
        {
            Persona.Browser => (0.12, 120.0),
            Persona.Regular => (0.25, 14 + (_random.NextDouble() * 21)),
            Persona.Occasional => (0.1, 45 + (_random.NextDouble() * 45)),
            Persona.Lapsing => (0.3, 20 + (_random.NextDouble() * 20)),
            _ => (0.5, 7 + (_random.NextDouble() * 7)),
        };
        LapsesAt = Persona == Persona.Lapsing ? start + TimeSpan.FromDays(_random.NextDouble() * days * 0.6) : null;
        NextPurchaseAt = (NewInRun ? SignedUpAt : start) + TimeSpan.FromDays(_random.NextDouble() * CycleDays);
    }

    public int Index { get; }

    public string Id { get; }

    public Persona Persona { get; }

    public bool NewInRun { get; }

    public DateTimeOffset SignedUpAt { get; }

    public string TimeZone { get; }

    public string Locale { get; }

    public string? Email { get; }

    public string? Phone { get; }

    public bool EmailConsent { get; }

    public bool SmsConsent { get; }

    public bool WeComConsent { get; }

    public bool DingTalkConsent { get; }

    public DateOnly? Birthday { get; }

    public string[] Favourites { get; }

    /// <summary>How readily they open and click: 0.4 (rarely) to 1.3 (eagerly).</summary>
    public double Engagement { get; }

    /// <summary>Buys far more readily with a coupon in hand.</summary>
    public bool CouponLover { get; }

    public double VisitsPerDay { get; }

    public double CycleDays { get; }

    /// <summary>When a lapsing customer stops coming.</summary>
    public DateTimeOffset? LapsesAt { get; }

    public DateTimeOffset NextPurchaseAt { get; private set; }

    /// <summary>Product ids in the cart.</summary>
    public List<string> Cart { get; } = [];

    /// <summary>The consumable they bought last: what they come back for when their cycle comes round.</summary>
    public string? Usual { get; set; }

    public int Orders { get; private set; }

    public Random Random => _random;

    public bool Lapsed(DateTimeOffset at) => LapsesAt is { } lapse && at >= lapse;

    /// <summary>The identify call: profile traits and consent as the shop knows them.</summary>
    public JsonObject Identify(DateTimeOffset at)
    {
        var consent = new JsonObject { ["email"] = EmailConsent, ["sms"] = SmsConsent, ["wecom"] = WeComConsent, ["dingtalk"] = DingTalkConsent };
        var traits = new JsonObject
        {
            ["name"] = Surnames[Index % Surnames.Length] + Given[Index / Surnames.Length % Given.Length],
            ["gender"] = Index % 3 == 0 ? "male" : "female",
            ["city"] = Cities[Index % Cities.Length],
            ["timezone"] = TimeZone,
            ["locale"] = Locale,
            ["created_at"] = SignedUpAt.ToString("O", CultureInfo.InvariantCulture),
            ["consent"] = consent,
        };
        if (Email is not null) traits["email"] = Email;
        if (Phone is not null) traits["phone"] = Phone;
        if (Birthday is { } b) traits["birthday"] = b.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return Event("identify", null, at, traits: traits);
    }

    /// <summary>A track call with this customer's next message id (stable across runs of the same seed).</summary>
    public JsonObject Track(string name, DateTimeOffset at, JsonObject properties) => Event("track", name, at, properties);

    private JsonObject Event(string type, string? name, DateTimeOffset at, JsonObject? properties = null, JsonObject? traits = null)
    {
        var e = new JsonObject
        {
            ["type"] = type,
            ["userId"] = Id,
            ["messageId"] = $"demo-{Id}-{++_events}",
            ["timestamp"] = at.ToString("O", CultureInfo.InvariantCulture),
        };
        if (name is not null) e["event"] = name;
        if (properties is not null) e["properties"] = properties;
        if (traits is not null) e["traits"] = traits;
        return e;
    }

    /// <summary>When they next visit the shop after <paramref name="after"/>: in waking hours, their time.</summary>
    public DateTimeOffset NextVisit(DateTimeOffset after)
    {
        var rate = Lapsed(after) ? 0.005 : VisitsPerDay;
        var at = after + TimeSpan.FromDays(-Math.Log(1 - _random.NextDouble()) / rate);
        var local = TimeZoneInfo.ConvertTime(at, TimeZoneInfo.FindSystemTimeZoneById(TimeZone));
        // Nobody shops between 1 and 8 in the morning here: move it to the evening before.
        if (local.Hour is >= 1 and < 8) at -= TimeSpan.FromHours(local.Hour + 1 + _random.Next(4));
        return at > after ? at : after + TimeSpan.FromMinutes(30);
    }

    /// <summary>Whether it is time for their next purchase (their cycle came round).</summary>
    public bool PurchaseDue(DateTimeOffset at) => at >= NextPurchaseAt;

    /// <summary>Records an order: the cart empties and the cycle starts again.</summary>
    public void Ordered(DateTimeOffset at)
    {
        Orders++;
        Cart.Clear();
        NextPurchaseAt = at + TimeSpan.FromDays(CycleDays * (0.8 + (_random.NextDouble() * 0.4)));
    }
}
