using System.Globalization;
using System.Text.RegularExpressions;

namespace Nudge.Cli.Demo;

/// <summary>
/// The seed journey library as the demo installs it: copied into the demo's data folder, with the
/// dated campaigns (big promotion, clearance, new-product launch) moved into the simulated days and
/// switched on, so their phases happen during the run.
/// </summary>
internal static partial class DemoLibrary
{
    [GeneratedRegex(@"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")]
    private static partial Regex Moment();

    /// <summary>The library folder shipped beside the binary, or the repository's when run from source.</summary>
    public static string Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var library = Path.Combine(dir.FullName, "library");
                if (File.Exists(Path.Combine(library, "welcome.yaml"))) return library;
            }
        }

        throw new DirectoryNotFoundException("The journey library (library/ with welcome.yaml) was not found beside the nudge binary or above the current folder.");
    }

    /// <summary>Copies the library to <paramref name="target"/> with the dated campaigns moved to their day of the run.</summary>
    public static void Install(string source, string target, DateTimeOffset start, int days)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*.yaml", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            var text = File.ReadAllText(file);
            if (Path.GetDirectoryName(relative) is "" or null && CampaignDay(Path.GetFileNameWithoutExtension(file), days) is { } day)
                text = MoveTo(text, start.AddDays(day));
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(target, relative))!);
            File.WriteAllText(Path.Combine(target, relative), text);
        }
    }

    private static int? CampaignDay(string journey, int days) => journey switch
    {
        "clearance" => Math.Max(1, days / 3),
        "new-product-launch" => Math.Max(1, days / 2),
        "big-promotion" => Math.Max(1, days - 12),
        _ => null,
    };

    /// <summary>Shifts every moment in the file by whole days so the first falls on <paramref name="day"/>'s date, and switches it on.</summary>
    private static string MoveTo(string text, DateTimeOffset day)
    {
        var moments = Moment().Matches(text).Select(m => DateTimeOffset.Parse(m.Value, CultureInfo.InvariantCulture)).ToList();
        if (moments.Count == 0) return text;
        var first = moments.Min();
        var shift = TimeSpan.FromDays((day.UtcDateTime.Date - first.UtcDateTime.Date).TotalDays);
        text = Moment().Replace(text, m => (DateTimeOffset.Parse(m.Value, CultureInfo.InvariantCulture) + shift).ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture));
        return text.Replace("enabled: false", "enabled: true", StringComparison.Ordinal);
    }
}
