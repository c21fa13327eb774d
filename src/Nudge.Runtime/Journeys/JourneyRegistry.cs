using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Engine.Journeys;
using Nudge.Runtime.Delivery;
using Nudge.Storage;

namespace Nudge.Runtime.Journeys;

/// <summary>
/// The journeys in force on this node: every stored version, read at start and replaced on each
/// change. Saving checks the document whole (with what exists on this engine) and stores it as a new
/// version; instances already inside stay on their version unless the new one says <c>migrate</c>.
/// </summary>
public sealed class JourneyRegistry(INudgeStore store, RuntimeOptions options, IServiceProvider services, TimeProvider time) : IDisposable
{
    private JourneyRunner? _runner;

    // Saves and reloads one at a time, so an older read never replaces a newer one.
    private readonly SemaphoreSlim _changes = new(1, 1);

    /// <summary>The runner over the journeys in force.</summary>
    public JourneyRunner Runner => _runner ??= new JourneyRunner(JourneySet.Empty, DefaultZone);

    /// <summary>The journeys in force.</summary>
    public JourneySet Current => Runner.Journeys;

    // Customers without a timezone trait live in the delivery policy's default zone.
    private TimeZoneInfo DefaultZone => services.GetService<DeliverySettings>()?.Policy.DefaultTimeZone ?? TimeZoneInfo.Utc;

    /// <summary>Reads every stored version. Versions were checked when saved; one that no longer reads is skipped, its instances end.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        List<JourneyDefinition> versions = [];
        foreach (var stored in await store.LoadJourneysAsync(cancellationToken))
        {
            using var doc = JsonDocument.Parse(stored.Json);
            if (JourneyParser.Parse(doc.RootElement, stored.Version, null, []) is { } journey) versions.Add(journey);
        }

        _runner = new JourneyRunner(new JourneySet(versions), DefaultZone);
    }

    /// <summary>What journeys may refer to on this engine now.</summary>
    public JourneyReferences References()
    {
        var templates = services.GetService<TemplateRegistry>()?.Current.Templates.Where(t => t.Value.Kind == "message").Select(t => t.Key) ?? [];
        var coupons = services.GetService<Coupons>()?.Campaigns.Select(c => c.Id) ?? [];
        var segments = services.GetRequiredService<Definitions.DefinitionsRegistry>().Current.SegmentIds;
        var channels = services.GetService<DeliverySettings>()?.ConfiguredChannels() ?? [];
        return new JourneyReferences(templates.ToHashSet(StringComparer.Ordinal), coupons.ToHashSet(StringComparer.Ordinal), segments, channels.ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>
    /// Imports the journeys folder given at start, then reads every stored version. A folder with any
    /// problem stops the start with every problem listed, file, line and column.
    /// </summary>
    /// <exception cref="InvalidDataException">The folder has problems.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.JourneysDirectory is { } directory) await ImportAsync(directory, cancellationToken);
        await LoadAsync(cancellationToken);
    }

    private async Task ImportAsync(string directory, CancellationToken cancellationToken)
    {
        var templates = services.GetRequiredService<TemplateRegistry>();
        var coupons = services.GetRequiredService<Coupons>();
        // References are checked against the templates and coupons stored now, plus the folder's own.
        await templates.LoadAsync(cancellationToken);
        await coupons.LoadAsync(cancellationToken);
        var pack = await JourneyPack.ReadAsync(directory, References(), cancellationToken);
        await pack.InstallAsync(templates, coupons, (id, json, file) => store.SaveJourneyAsync(id, _ => json, file, time.GetUtcNow(), cancellationToken), cancellationToken);
    }

    /// <summary>Checks a journey document (YAML or JSON) and saves it as a new version; a document equal to the latest version saves nothing new.</summary>
    /// <param name="text">The document.</param>
    /// <param name="expectedId">The id it must have (from the URL), or null.</param>
    /// <param name="source">Where it came from, e.g. api.</param>
    /// <param name="cancellationToken">Cancels the save.</param>
    /// <returns>The version in force afterwards and whether it is new, or the problems.</returns>
    public async Task<(JourneyDefinition? Journey, bool Created, IReadOnlyList<JourneyProblem> Problems)> SaveAsync(string text, string? expectedId, string source, CancellationToken cancellationToken)
    {
        var result = JourneyFiles.Check(text, "request body", References());
        if (result.Journey is not { } journey) return (null, false, result.Problems);
        if (expectedId is not null && journey.Id != expectedId)
            return (null, false, [new JourneyProblem("request body", 1, 1, "$.id", $"is '{journey.Id}' but the URL says '{expectedId}'")]);
        await _changes.WaitAsync(cancellationToken);
        try
        {
            var (version, created) = await store.SaveJourneyAsync(journey.Id, _ => result.Json, source, time.GetUtcNow(), cancellationToken);
            await LoadAsync(cancellationToken);
            return (Current.Find(journey.Id, version), created, []);
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Removes a journey with all its versions; instances still inside end when next touched.</summary>
    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken);
        try
        {
            var deleted = await store.DeleteJourneyAsync(id, time.GetUtcNow(), cancellationToken);
            await LoadAsync(cancellationToken);
            return deleted;
        }
        finally
        {
            _changes.Release();
        }
    }

    public void Dispose() => _changes.Dispose();
}
