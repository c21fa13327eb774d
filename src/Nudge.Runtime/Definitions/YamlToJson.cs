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
    public static string Convert(string yaml, string fileName) => Convert(yaml, fileName, null);

    /// <summary>
    /// The JSON text of a YAML (or JSON) document, with where each part starts: JSON paths such as
    /// <c>$.steps[2].send</c> to line and column, so problems found in the JSON can be shown in the file.
    /// Malformed YAML gives no JSON and the error with its line and column.
    /// </summary>
    public static (string? Json, IReadOnlyDictionary<string, (int Line, int Column)> Positions, (int Line, int Column, string Message)? Error) ConvertWithPositions(string yaml, string fileName)
    {
        Dictionary<string, (int, int)> positions = new(StringComparer.Ordinal);
        try
        {
            return (Convert(yaml, fileName, positions), positions, null);
        }
        catch (InvalidDataException e) when (e.InnerException is YamlException y)
        {
            return (null, positions, ((int)y.Start.Line, (int)y.Start.Column, $"not valid YAML: {y.Message}"));
        }
    }

    /// <summary>Where a JSON path is in the document: the path itself, or the nearest part of it that exists there.</summary>
    public static (int Line, int Column) Locate(IReadOnlyDictionary<string, (int Line, int Column)> positions, string path)
    {
        for (var p = path; p.Length > 0; p = Parent(p))
            if (positions.TryGetValue(p, out var at)) return at;
        return (1, 1);
    }

    private static string Parent(string path)
    {
        var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
        return cut <= 0 ? "" : path[..cut];
    }

    private static string Convert(string yaml, string fileName, Dictionary<string, (int, int)>? positions)
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
            else Write(w, stream.Documents[0].RootNode, "$", positions);
            if (stream.Documents.Count == 0) w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(Utf8JsonWriter w, YamlNode node, string path, Dictionary<string, (int, int)>? positions)
    {
        positions?.TryAdd(path, ((int)node.Start.Line, (int)node.Start.Column));
        switch (node)
        {
            case YamlMappingNode map:
                w.WriteStartObject();
                foreach (var (key, value) in map.Children)
                {
                    var name = (key as YamlScalarNode)?.Value ?? throw new InvalidDataException($"line {key.Start.Line}: mapping keys must be plain text");
                    w.WritePropertyName(name);
                    // A property is shown where its key is.
                    positions?.TryAdd($"{path}.{name}", ((int)key.Start.Line, (int)key.Start.Column));
                    Write(w, value, $"{path}.{name}", positions);
                }

                w.WriteEndObject();
                break;
            case YamlSequenceNode list:
                w.WriteStartArray();
                var i = 0;
                foreach (var item in list.Children) Write(w, item, $"{path}[{i++}]", positions);
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
