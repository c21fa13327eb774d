using System.Globalization;
using Nudge.Benchmarks;

// dotnet run -c Release --project bench/Nudge.Benchmarks -- ingest [seconds] [connections] [steady events/s] [--no-postgres]
if (args.Length == 0 || args[0] != "ingest")
{
    Console.WriteLine("usage: ingest [seconds=10] [connections=32] [steady-rate=20000] [--no-postgres]");
    return 1;
}

var numbers = args.Skip(1).Where(a => !a.StartsWith("--", StringComparison.Ordinal)).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray();
await IngestLoad.RunAsync(
    TimeSpan.FromSeconds(numbers.ElementAtOrDefault(0) is > 0 and var s ? s : 10),
    numbers.ElementAtOrDefault(1) is > 0 and var c ? c : 32,
    numbers.ElementAtOrDefault(2) is > 0 and var r ? r : 20_000,
    postgres: !args.Contains("--no-postgres"));
return 0;
