namespace Nudge.Server.Tests;

/// <summary>
/// Tests that host the engine in this process run one at a time: metrics listeners are process-wide,
/// so two live hosts would both see each other's "Nudge.Ingest" instruments and /metrics of one could
/// drop the other's as duplicates.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ServerCollection
{
    public const string Name = "in-process engine";
}
