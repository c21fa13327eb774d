using System.Text.Json;
using System.Text.Json.Serialization;
using Nudge.Engine.Catalog;
using Nudge.Engine.Customers;
using Nudge.Engine.Events;

namespace Nudge.Server.Api;

/// <summary>A customer as the management API returns it.</summary>
public sealed record CustomerView(
    string UserId,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    IReadOnlyDictionary<string, JsonElement> Traits,
    IReadOnlyList<IdentityView> Identities,
    IReadOnlyList<EventView> RecentEvents,
    InsightsView? Insights = null,
    CustomerJourneysView? Journeys = null)
{
    public static CustomerView From(CustomerProfile profile, IReadOnlyList<StoredEvent> recent, InsightsView? insights = null, CustomerJourneysView? journeys = null) => new(
        profile.UserId, profile.FirstSeen, profile.LastSeen,
        profile.Traits.ToDictionary(t => t.Key, t => Json(t.Value.JsonValue), StringComparer.Ordinal),
        [.. profile.Identities.Select(i => new IdentityView(i.Id, i.Kind, i.LinkedAt))],
        [.. recent.Select(EventView.From)],
        insights, journeys);

    internal static JsonElement Json(string text)
    {
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }
}

/// <summary>The journeys a customer is in now, and their journey history (newest first).</summary>
public sealed record CustomerJourneysView(IReadOnlyList<InstanceView> Active, IReadOnlyList<Nudge.Storage.JourneyHistoryEntry> History)
{
    public static CustomerJourneysView From(CustomerState s, IReadOnlyList<Nudge.Storage.JourneyHistoryEntry> history) => new(
        [.. s.Journeys.Select(i => new InstanceView(i.JourneyId, i.Version, i.Number, i.StepId, i.EnteredAt, i.StepSince, i.WakeAt))], history);
}

/// <summary>A journey instance: where it is and when it next moves on by itself.</summary>
public sealed record InstanceView(string JourneyId, int Version, long Instance, string Step, DateTimeOffset EnteredAt, DateTimeOffset StepSince, DateTimeOffset? WakeAt);

public sealed record IdentityView(string Id, string Kind, DateTimeOffset LinkedAt);

/// <summary>An event of the log: where it is, what it is, and the message as it was sent.</summary>
public sealed record EventView(
    long Position, string MessageId, string Type, string? Name, string? UserId, string? AnonymousId,
    DateTimeOffset Timestamp, DateTimeOffset ReceivedAt, JsonElement Message)
{
    public static EventView From(StoredEvent e) => new(
        e.Position, e.MessageId, e.Type.ToWire(), e.Name, e.UserId, e.AnonymousId, e.Timestamp, e.ReceivedAt, CustomerView.Json(e.Json));
}

/// <summary>A page of events, newest first; pass <c>next</c> as <c>before</c> for the following page.</summary>
public sealed record EventPage(IReadOnlyList<EventView> Events, long? Next);

/// <summary>A page of products; pass <c>next</c> as <c>after</c> for the following page.</summary>
public sealed record ProductPage(IReadOnlyList<Product> Products, string? Next);

/// <summary>The result of writing a product: the product and the price/stock changes it recorded.</summary>
public sealed record ProductWritten(Product Product, IReadOnlyList<CatalogChange> Changes);

/// <summary>Body of a custom tag change.</summary>
public sealed record TagBody(string? Value);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CustomerView))]
[JsonSerializable(typeof(TagBody))]
[JsonSerializable(typeof(List<SegmentView>))]
[JsonSerializable(typeof(SegmentView))]
[JsonSerializable(typeof(MemberPage))]
[JsonSerializable(typeof(Nudge.Runtime.Segments.SegmentPreview))]
[JsonSerializable(typeof(List<JsonElement>))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(RfmView))]
[JsonSerializable(typeof(EventPage))]
[JsonSerializable(typeof(ProductPage))]
[JsonSerializable(typeof(Product))]
[JsonSerializable(typeof(ProductWritten))]
[JsonSerializable(typeof(IReadOnlyList<CatalogChange>))]
[JsonSerializable(typeof(MessageQueued))]
[JsonSerializable(typeof(Requeued))]
[JsonSerializable(typeof(MessagePage))]
[JsonSerializable(typeof(MessageView))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, long>))]
[JsonSerializable(typeof(List<Nudge.Engine.Messaging.Templates.MessageTemplate>))]
[JsonSerializable(typeof(Nudge.Engine.Messaging.Templates.MessageTemplate))]
[JsonSerializable(typeof(Nudge.Engine.Messaging.Templates.RenderedMessage))]
[JsonSerializable(typeof(List<Nudge.Engine.Messaging.Templates.TemplateError>))]
[JsonSerializable(typeof(List<FieldProblem>))]
[JsonSerializable(typeof(ConsentView))]
[JsonSerializable(typeof(Suppression))]
[JsonSerializable(typeof(InboxToken))]
[JsonSerializable(typeof(IReadOnlyList<Nudge.Storage.InboxItem>))]
[JsonSerializable(typeof(Nudge.Storage.InboxItem))]
[JsonSerializable(typeof(Nudge.Server.Tracking.ReadResult))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(List<CampaignView>))]
[JsonSerializable(typeof(CampaignView))]
[JsonSerializable(typeof(CodesAdded))]
[JsonSerializable(typeof(Nudge.Engine.Coupons.CouponCampaign))]
[JsonSerializable(typeof(Nudge.Storage.CouponCode))]
[JsonSerializable(typeof(IReadOnlyList<Nudge.Storage.CouponCode>))]
[JsonSerializable(typeof(List<JourneySummary>))]
[JsonSerializable(typeof(JourneyCheck))]
[JsonSerializable(typeof(Nudge.Runtime.Journeys.BacktestReport))]
[JsonSerializable(typeof(JourneySaved))]
[JsonSerializable(typeof(JourneyDocument))]
[JsonSerializable(typeof(JourneyStats))]
[JsonSerializable(typeof(TaskDone))]
[JsonSerializable(typeof(Nudge.Storage.StaffTask))]
[JsonSerializable(typeof(IReadOnlyList<Nudge.Storage.StaffTask>))]
[JsonSerializable(typeof(Nudge.Runtime.Journeys.JourneyProblem))]
[JsonSerializable(typeof(List<CaughtMailSummary>))]
[JsonSerializable(typeof(CaughtMailView))]
[JsonSerializable(typeof(List<QuarantineView>))]
[JsonSerializable(typeof(ReleasedView))]
internal sealed partial class NudgeJson : JsonSerializerContext;
