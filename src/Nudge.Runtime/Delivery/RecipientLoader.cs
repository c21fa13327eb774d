using System.Text.Json;
using Nudge.Engine.Customers;
using Nudge.Engine.Messaging;
using Nudge.Storage;

namespace Nudge.Runtime.Delivery;

/// <summary>A customer as delivery sees them: what the policy needs, and what templates may show.</summary>
/// <param name="Recipient">Addresses, zone, consent, suppressions, engagement, recent messages.</param>
/// <param name="Locale">The <c>locale</c> trait, or null.</param>
/// <param name="Customer">The <c>customer</c> variable of templates: id, traits, and a few stats.</param>
/// <param name="Recommendations">The <c>recommendations</c> variable: popular products in the customer's top category.</param>
public sealed record Audience(Recipient Recipient, string? Locale, IReadOnlyDictionary<string, object?> Customer, IReadOnlyList<Dictionary<string, object?>> Recommendations)
{
    /// <summary>The variables every template of this customer sees, before the trigger's own.</summary>
    public Dictionary<string, object?> Model(long messageId, string unsubscribeUrl) => new(StringComparer.Ordinal)
    {
        ["customer"] = Customer, ["recommendations"] = Recommendations, ["message_id"] = messageId, ["unsubscribe_url"] = unsubscribeUrl,
    };
}

/// <summary>Loads an <see cref="Audience"/> from the profile (traits are current as of ingestion), the consent ledger, suppressions and the customer state.</summary>
public sealed class RecipientLoader(INudgeStore store, DeliverySettings settings, PopularProducts popular)
{
    private readonly IReadOnlyList<string> _configured = settings.ConfiguredChannels();

    /// <summary>The audience for a customer, or null when no such customer exists.</summary>
    public async Task<Audience?> LoadAsync(string customerId, DateTimeOffset now, CancellationToken cancellationToken) =>
        (await LoadManyAsync([customerId], now, cancellationToken))[customerId];

    /// <summary>Audiences for many customers, read on one connection; null for ids no customer has.</summary>
    public async Task<Dictionary<string, Audience?>> LoadManyAsync(IReadOnlyList<string> customerIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Dictionary<string, Audience?> audiences = new(StringComparer.Ordinal);
        foreach (var facts in await store.DeliveryFactsAsync(customerIds, now.AddDays(-8), cancellationToken))
            audiences[facts.RequestedId] = facts.Profile is null ? null : Build(facts);
        return audiences;
    }

    private Audience Build(DeliveryFacts facts)
    {
        var profile = facts.Profile!;
        Dictionary<string, object?> traits = new(StringComparer.Ordinal);
        foreach (var (name, value) in profile.Traits) traits[name] = TemplateValues.FromJson(value.JsonValue);
        var email = profile.Traits.TryGetValue("email", out var e) ? ContactAddresses.From(ChannelNames.Email, e.JsonValue) : null;
        var phone = profile.Traits.TryGetValue("phone", out var p) ? ContactAddresses.From(ChannelNames.Sms, p.JsonValue) : null;
        var zone = Nudge.Engine.Journeys.LocalTime.Zone(traits.GetValueOrDefault("timezone") as string, settings.Policy.DefaultTimeZone);

        Dictionary<string, string> addresses = new(StringComparer.Ordinal);
        foreach (var channel in _configured)
        {
            var address = channel switch
            {
                ChannelNames.Email => email,
                ChannelNames.Sms => phone,
                ChannelNames.WeCom or ChannelNames.DingTalk => phone ?? "", // a group post, mentioning the customer when there is a number
                _ => profile.UserId,
            };
            if (address is not null) addresses[channel] = address;
        }

        // The ledger is oldest first: the last word per channel and topic stands.
        Dictionary<(string, string), bool> consent = [];
        foreach (var change in facts.Consent) consent[(change.Channel, change.Topic)] = change.Granted;

        var customer = new Dictionary<string, object?>(traits, StringComparer.Ordinal) { ["id"] = profile.UserId };
        List<string> engaged = [];
        if (facts.State is { } bytes)
        {
            // Only what a message uses: a customer deep in journeys carries far more than this.
            var state = CustomerStateCodec.Decode(bytes, StateParts.Engagement | StateParts.Categories | StateParts.Orders | StateParts.Cart);
            engaged = [.. state.Engagement.OrderByDescending(x => x.Value).ThenBy(x => x.Key, StringComparer.Ordinal).Select(x => x.Key).Where(_configured.Contains)];
            customer["top_category"] = state.Categories.Top;
            customer["orders_count"] = state.Orders.Count;
            customer["cart"] = state.Cart.Select(line => (object?)new Dictionary<string, object?>
            {
                ["product_id"] = line.Key, ["name"] = line.Value.Name, ["category"] = line.Value.Category,
                ["quantity"] = line.Value.Quantity, ["price"] = line.Value.Price,
            }).ToList();
        }

        var recipient = new Recipient(profile.UserId, addresses, zone, consent, facts.Suppressed, engaged, facts.RecentMarketing);
        return new Audience(recipient, traits.GetValueOrDefault("locale") as string, customer, popular.For(customer.GetValueOrDefault("top_category") as string));
    }
}

/// <summary>JSON values as the plain values templates read: strings, decimals, booleans, dictionaries and lists.</summary>
public static class TemplateValues
{
    /// <summary>Converts JSON text.</summary>
    public static object? FromJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return From(doc.RootElement);
    }

    /// <summary>Converts a JSON element.</summary>
    public static object? From(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetDecimal(out var d) ? d : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => From(p.Value), StringComparer.Ordinal),
        JsonValueKind.Array => e.EnumerateArray().Select(From).ToList(),
        _ => null,
    };
}
