using System.Text.Json.Serialization;
using Nudge.Engine.Rfm;

namespace Nudge.Runtime;

/// <summary>Source-generated JSON for what the runtime stores as settings or hands to grains as text.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(RfmQuintiles))]
[JsonSerializable(typeof(Nudge.Engine.Journeys.CatalogOffer))]
[JsonSerializable(typeof(Dictionary<string, Nudge.Engine.Journeys.JourneyEntry>))]
internal sealed partial class RuntimeJson : JsonSerializerContext;
