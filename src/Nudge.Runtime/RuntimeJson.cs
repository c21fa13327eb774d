using System.Text.Json.Serialization;
using Nudge.Engine.Rfm;

namespace Nudge.Runtime;

/// <summary>Source-generated JSON for what the runtime stores as settings.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(RfmQuintiles))]
internal sealed partial class RuntimeJson : JsonSerializerContext;
