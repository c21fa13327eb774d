using System.CommandLine;
using Nudge.Engine.Definitions;
using Nudge.Engine.Journeys;
using Nudge.Engine.Messaging;
using Nudge.Runtime.Journeys;

namespace Nudge.Cli.Journeys;

internal static class JourneysCommand
{
    public static Command Create()
    {
        var command = new Command("journeys", "Check and try out journey files");
        command.Subcommands.Add(Validate());
        return command;
    }

    private static Command Validate()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "A journeys folder: journey files, with templates/ and coupons/ beside them" };
        var segments = new Option<string[]>("--segment")
        {
            Description = "A segment id that exists on the engine beyond the built-in ones (repeatable)",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("validate", "Reports every problem in a journeys folder with file, line and column; exits 1 if there is any");
        command.Arguments.Add(directory);
        command.Options.Add(segments);
        command.SetAction(async (result, cancellationToken) =>
        {
            var dir = result.GetValue(directory)!;
            if (!dir.Exists)
            {
                await Console.Error.WriteLineAsync($"There is no folder {dir.FullName}.");
                return 2;
            }

            var pack = await JourneyPack.ReadAsync(dir.FullName, KnownHere(result.GetValue(segments) ?? []), cancellationToken);
            foreach (var problem in pack.Problems) await Console.Out.WriteLineAsync(problem.ToString());
            var valid = pack.Journeys.Count(j => j.Result.Journey is not null);
            await Console.Out.WriteLineAsync(pack.Problems.Count == 0
                ? $"{valid} journeys, {pack.Templates.Count} templates and {pack.Coupons.Count} coupon campaigns are valid."
                : $"{pack.Problems.Count} problem(s) in {dir.FullName}.");
            return pack.Problems.Count == 0 ? 0 : 1;
        });
        return command;
    }

    /// <summary>Without an engine to ask: the built-in segments, the given ones, and every channel.</summary>
    private static JourneyReferences KnownHere(IEnumerable<string> segments) => new(
        new HashSet<string>(StringComparer.Ordinal), new HashSet<string>(StringComparer.Ordinal),
        DefaultDefinitions.Load().Segments.Select(s => s.Id).Concat(segments).ToHashSet(StringComparer.Ordinal),
        ChannelNames.All.ToHashSet(StringComparer.Ordinal));
}
