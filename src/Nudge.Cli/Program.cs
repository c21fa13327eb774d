using System.CommandLine;
using Nudge.Cli.Demo;
using Nudge.Cli.Import;
using Nudge.Cli.Journeys;
using Nudge.Cli.Serve;

var root = new RootCommand("Nudge: self-hosted marketing automation for online shops")
{
    ServeCommand.Create(),
    ImportCommand.Create(),
    JourneysCommand.Create(),
    DemoCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
