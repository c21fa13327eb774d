using System.Globalization;
using System.Text;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Nudge.Runtime.Definitions;

/// <summary>
/// Reads a YAML document as the JSON it stands for, so YAML definition files go through the same
/// validation as JSON. Plain scalars that read as numbers, booleans or null become those; quoted
/// scalars stay text.
/// </summary>
public static class YamlToJson
{
    /// <summary>The JSON text of a settings file: JSON as it is, YAML (.yaml, .yml) converted.</summary>
    /// <exception cref="InvalidDataException">The file cannot be read, or its YAML is malformed; the message names the file.</exception>
    public static async Task<string> ReadFileAsync(string path, string what, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (IOException e)
        {
            throw new InvalidDataException($"Cannot read the {what} file {path}: {e.Message}", e);
        }

        return Path.GetExtension(path).ToLowerInvariant() is ".yaml" or ".yml" ? Convert(text, path) : text;
    }

    /// <summary>The JSON text of a YAML document.</summary>
    /// <exception cref="InvalidDataException">The YAML is malformed; the message gives line and column.</exception>
    public static string Convert(string yaml, string fileName)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{fileName}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {e.Message}", e);
        }

        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            if (stream.Documents.Count == 0) w.WriteStartObject();
            else Write(w, stream.Documents[0].RootNode);
            if (stream.Documents.Count == 0) w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(Utf8JsonWriter w, YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
                w.WriteStartObject();
                foreach (var (key, value) in map.Children)
                {
                    w.WritePropertyName(((YamlScalarNode)key).Value ?? "");
                    Write(w, value);
                }

                w.WriteEndObject();
                break;
            case YamlSequenceNode list:
                w.WriteStartArray();
                foreach (var item in list.Children) Write(w, item);
                w.WriteEndArray();
                break;
            case YamlScalarNode { Style: ScalarStyle.Plain } scalar:
                WritePlain(w, scalar.Value);
                break;
            case YamlScalarNode scalar:
                w.WriteStringValue(scalar.Value);
                break;
            default:
                throw new InvalidDataException($"line {node.Start.Line}: unsupported YAML node");
        }
    }

    private static void WritePlain(Utf8JsonWriter w, string? value)
    {
        if (value is null or "" or "~" or "null") w.WriteNullValue();
        else if (value is "true" or "false") w.WriteBooleanValue(value == "true");
        else if (decimal.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)) w.WriteNumberValue(number);
        else w.WriteStringValue(value);
    }
}
