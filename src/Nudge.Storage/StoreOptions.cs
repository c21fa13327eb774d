using Nudge.Storage.Postgres;
using Nudge.Storage.Sqlite;

namespace Nudge.Storage;

/// <summary>Which store to open: <c>sqlite</c> (a file under the data directory) or <c>postgres</c> (a connection string).</summary>
/// <param name="Kind">"sqlite" or "postgres".</param>
/// <param name="DataDirectory">Where the SQLite file lives.</param>
/// <param name="Connection">PostgreSQL connection string, or an explicit SQLite file path.</param>
public sealed record StoreOptions(string Kind = "sqlite", string DataDirectory = "nudge-data", string? Connection = null)
{
    /// <summary>
    /// Whether each SQLite commit waits for the disk (the default). Off, a crash still leaves the store
    /// consistent but may lose the last commits: only for throwaway stores, such as the demo's.
    /// </summary>
    public bool Durable { get; init; } = true;

    /// <summary>The SQLite file name inside the data directory.</summary>
    public const string SqliteFileName = "nudge.db";

    /// <summary>Opens the store; it still needs <see cref="INudgeStore.MigrateAsync"/>.</summary>
    public INudgeStore Open() => Kind.ToLowerInvariant() switch
    {
        "sqlite" => new SqliteStore(Connection ?? Path.Combine(CreateDirectory(DataDirectory), SqliteFileName), Durable),
        "postgres" => new PostgresStore(Connection
            ?? throw new ArgumentException("--store postgres needs --connection \"Host=...;Database=...;Username=...;Password=...\".")),
        _ => throw new ArgumentException($"Unknown store '{Kind}': use sqlite or postgres."),
    };

    private static string CreateDirectory(string path) => Directory.CreateDirectory(path).FullName;
}
