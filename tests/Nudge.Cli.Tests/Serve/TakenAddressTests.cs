using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Nudge.Cli.Demo;
using Nudge.Cli.Serve;

namespace Nudge.Cli.Tests.Serve;

/// <summary>An address something else listens on is refused in one line, before any store or folder is created.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class TakenAddressTests
{
    public static TheoryData<string> Commands => ["serve", "demo"];

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task a_taken_address_is_refused_naming_it_and_nothing_is_created(string name)
    {
        var occupier = new TcpListener(IPAddress.Loopback, 0);
        occupier.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)occupier.LocalEndpoint).Port}";
        var data = Path.Combine(Path.GetTempPath(), $"nudge-taken-{Guid.NewGuid():N}");
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try
        {
            Command command = name == "serve" ? ServeCommand.Create() : DemoCommand.Create();
            string[] args = name == "serve" ? ["--urls", url, "--data", data] : ["--urls", url, "--data", data, "--no-serve"];
            Assert.Equal(1, await command.Parse(args).InvokeAsync());
        }
        finally
        {
            Console.SetError(previous);
            occupier.Stop();
        }

        Assert.Equal($"Cannot listen on {url}: something else is listening there (another Nudge?). Choose another address with --urls.", error.ToString().Trim());
        Assert.False(Directory.Exists(data));
    }

    [Fact]
    public void an_address_that_is_not_this_machines_is_refused_with_the_reason()
    {
        // 192.0.2.0/24 is reserved for documentation: never an address of this machine.
        var problem = ListenCheck.Problem("http://192.0.2.1:5080");
        Assert.NotNull(problem);
        Assert.StartsWith("Cannot listen on http://192.0.2.1:5080: ", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("another Nudge", problem, StringComparison.Ordinal);
        Assert.Null(ListenCheck.Problem("http://127.0.0.1:0"));
    }
}
