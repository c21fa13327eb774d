using System.Globalization;
using Nudge.Benchmarks;

// dotnet run -c Release --project bench/Nudge.Benchmarks -- ingest [seconds] [connections] [steady events/s] [--no-postgres]
// dotnet run -c Release --project bench/Nudge.Benchmarks -- runtime [customers] [events]
// dotnet run -c Release --project bench/Nudge.Benchmarks -- reevaluate [customers]
// dotnet run -c Release --project bench/Nudge.Benchmarks -- emails [messages] [connections]
// dotnet run -c Release --project bench/Nudge.Benchmarks -- journeys [customers] [events/s] [seconds]
if (args.Length == 0 || args[0] is not ("ingest" or "runtime" or "reevaluate" or "emails" or "journeys"))
{
    Console.WriteLine("usage: ingest [seconds=10] [connections=32] [steady-rate=20000] [--no-postgres]");
    Console.WriteLine("       runtime [customers=50000] [events=200000]");
    Console.WriteLine("       reevaluate [customers=1000000]");
    Console.WriteLine("       emails [messages=20000] [connections=8]");
    Console.WriteLine("       journeys [customers=100000] [events/s=10000] [seconds=10]");
    return 1;
}

if (args[0] == "journeys")
{
    await JourneyLoad.RunAsync(Arg(1, 100_000), Arg(2, 10_000), Arg(3, 10));
    return 0;
}

if (args[0] == "runtime")
{
    await RuntimeLoad.RunAsync(Arg(1, 50_000), Arg(2, 200_000));
    return 0;
}

if (args[0] == "emails")
{
    await EmailLoad.RunAsync(Arg(1, 20_000), Arg(2, 8));
    return 0;
}

if (args[0] == "reevaluate")
{
    await Reevaluation.RunAsync(Arg(1, 1_000_000));
    return 0;
}

var numbers = args.Skip(1).Where(a => !a.StartsWith("--", StringComparison.Ordinal)).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray();
await IngestLoad.RunAsync(
    TimeSpan.FromSeconds(numbers.ElementAtOrDefault(0) is > 0 and var s ? s : 10),
    numbers.ElementAtOrDefault(1) is > 0 and var c ? c : 32,
    numbers.ElementAtOrDefault(2) is > 0 and var r ? r : 20_000,
    postgres: !args.Contains("--no-postgres"));
return 0;

int Arg(int index, int fallback) => args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;
