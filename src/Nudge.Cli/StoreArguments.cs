using System.CommandLine;
using Nudge.Storage;

namespace Nudge.Cli;

/// <summary>--data, --store and --connection, shared by every command that opens the store.</summary>
internal sealed class StoreArguments
{
    public Option<string> Data { get; } = new("--data") { Description = "Data directory for the embedded SQLite store", DefaultValueFactory = _ => "nudge-data" };

    public Option<string> Store { get; } = new("--store") { Description = "sqlite (embedded, default) or postgres", DefaultValueFactory = _ => "sqlite" };

    public Option<string?> Connection { get; } = new("--connection") { Description = "PostgreSQL connection string (with --store postgres)" };

    public void AddTo(Command command)
    {
        Store.AcceptOnlyFromAmong("sqlite", "postgres");
        command.Options.Add(Data);
        command.Options.Add(Store);
        command.Options.Add(Connection);
    }

    public StoreOptions Read(ParseResult result) =>
        new(result.GetValue(Store)!, result.GetValue(Data)!, result.GetValue(Connection));
}
