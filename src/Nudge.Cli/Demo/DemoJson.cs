using System.Text.Json;
using System.Text.Json.Serialization;
using Nudge.Engine.Catalog;

namespace Nudge.Cli.Demo;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Product))]
internal sealed partial class DemoJson : JsonSerializerContext;
