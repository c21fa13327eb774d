using System.CommandLine;
using Nudge.Cli.Import;
using Nudge.Cli.Serve;

var root = new RootCommand("Nudge: self-hosted marketing automation for online shops")
{
    ServeCommand.Create(),
    ImportCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
