using System.Text.Json;
using Nudge.Engine.Coupons;
using Nudge.Engine.Journeys;
using Nudge.Engine.Messaging.Templates;
using Nudge.Runtime.Definitions;
using Nudge.Runtime.Delivery;

namespace Nudge.Runtime.Journeys;

/// <summary>
/// A journeys folder, reviewable in git: journey files (YAML or JSON) at the top, and the message
/// templates and coupon campaigns they use in <c>templates/</c> and <c>coupons/</c>, one per file,
/// named by id (<c>templates/cart-reminder.yaml</c> is the template <c>cart-reminder</c>).
/// </summary>
public sealed class JourneyPack
{
    private JourneyPack(string directory, List<(string Id, string File, JsonDocument Document)> templates, List<(string Id, string File, JsonDocument Document)> coupons,
        IReadOnlyList<(string File, CheckedJourney Result)> journeys, List<JourneyProblem> problems)
    {
        (Directory, Templates, Coupons, Journeys, Problems) = (directory, templates, coupons, journeys, problems);
    }

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>Templates in the folder, layouts and partials first.</summary>
    public IReadOnlyList<(string Id, string File, JsonDocument Document)> Templates { get; }

    /// <summary>Coupon campaigns in the folder.</summary>
    public IReadOnlyList<(string Id, string File, JsonDocument Document)> Coupons { get; }

    /// <summary>The journeys, checked.</summary>
    public IReadOnlyList<(string File, CheckedJourney Result)> Journeys { get; }

    /// <summary>Every problem in the folder, file by file.</summary>
    public IReadOnlyList<JourneyProblem> Problems { get; }

    /// <summary>Reads and checks a folder. Journeys may refer to what <paramref name="existing"/> holds and to the folder's own templates and coupons.</summary>
    public static async Task<JourneyPack> ReadAsync(string directory, JourneyReferences existing, CancellationToken cancellationToken)
    {
        if (!System.IO.Directory.Exists(directory)) throw new InvalidDataException($"The journeys folder {directory} does not exist.");
        List<JourneyProblem> problems = [];
        var templates = await DocumentsAsync(Path.Combine(directory, "templates"), problems, cancellationToken);
        var coupons = await DocumentsAsync(Path.Combine(directory, "coupons"), problems, cancellationToken);
        List<(string Id, string File, JsonDocument Document, string Kind)> sorted = [];
        foreach (var (id, file, doc) in templates)
        {
            var (template, errors) = TemplateParser.Parse(doc.RootElement, id);
            problems.AddRange(errors.Select(e => new JourneyProblem(file, Math.Max(1, e.Line), Math.Max(1, e.Column), e.Path, e.Message)));
            if (template is not null) sorted.Add((id, file, doc, template.Kind));
        }

        foreach (var (id, file, doc) in coupons)
            problems.AddRange(CouponCampaign.Parse(doc.RootElement, id).Errors.Select(e => new JourneyProblem(file, 1, 1, "$", e)));

        var references = existing with
        {
            Templates = existing.Templates.Union(sorted.Where(t => t.Kind == "message").Select(t => t.Id)).ToHashSet(StringComparer.Ordinal),
            CouponCampaigns = existing.CouponCampaigns.Union(coupons.Select(c => c.Id)).ToHashSet(StringComparer.Ordinal),
        };
        var journeys = await JourneyFiles.CheckDirectoryAsync(directory, references, cancellationToken);
        problems.AddRange(journeys.SelectMany(j => j.Result.Problems));
        // Layouts and partials go in before the messages that use them.
        var ordered = sorted.OrderBy(t => t.Kind == "message" ? 1 : 0).ThenBy(t => t.Id, StringComparer.Ordinal).Select(t => (t.Id, t.File, t.Document)).ToList();
        return new JourneyPack(directory, ordered, coupons, journeys, problems);
    }

    /// <summary>Saves the folder's templates and coupons, then its journeys (each changed journey as a new version).</summary>
    /// <exception cref="InvalidDataException">The folder has problems, or a template clashes with the stored ones.</exception>
    public async Task InstallAsync(TemplateRegistry templates, Coupons coupons, Func<string, string, string, Task> saveJourney, CancellationToken cancellationToken)
    {
        if (Problems.Count > 0)
            throw new InvalidDataException($"The journeys in {Directory} have {Problems.Count} problem(s); nothing was loaded:{Environment.NewLine}{string.Join(Environment.NewLine, Problems)}");
        foreach (var (id, file, doc) in Templates)
        {
            var (_, errors) = await templates.PutAsync(id, doc.RootElement, cancellationToken);
            if (errors.Count > 0) throw new InvalidDataException($"{file}: {string.Join("; ", errors)}");
        }

        foreach (var (id, _, doc) in Coupons) await coupons.PutAsync(id, doc.RootElement, cancellationToken);
        foreach (var (file, result) in Journeys) await saveJourney(result.Journey!.Id, result.Json!, Path.GetFileName(file));
    }

    private static async Task<List<(string Id, string File, JsonDocument Document)>> DocumentsAsync(string directory, List<JourneyProblem> problems, CancellationToken cancellationToken)
    {
        List<(string, string, JsonDocument)> documents = [];
        if (!System.IO.Directory.Exists(directory)) return documents;
        foreach (var file in JourneyFiles.Find(directory))
        {
            var (json, _, error) = YamlToJson.ConvertWithPositions(await File.ReadAllTextAsync(file, cancellationToken), file);
            if (error is { } e) problems.Add(new JourneyProblem(file, e.Line, e.Column, "$", e.Message));
            else documents.Add((Path.GetFileNameWithoutExtension(file), file, JsonDocument.Parse(json!)));
        }

        return documents;
    }
}
