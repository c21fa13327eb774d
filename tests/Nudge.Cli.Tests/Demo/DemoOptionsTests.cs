using Nudge.Cli.Demo;

namespace Nudge.Cli.Tests.Demo;

[Collection(nameof(ConsoleCollection))]
public sealed class DemoOptionsTests
{
    [Theory]
    [InlineData("--customers", "0", "--customers must be between 1 and 1,000,000.")]
    [InlineData("--days", "731", "--days must be between 1 and 730.")]
    [InlineData("--days", "ninety", "ninety")]
    public void out_of_range_or_mistyped_options_are_refused_naming_the_option(string option, string value, string expected)
    {
        var result = DemoCommand.Create().Parse([option, value]);
        Assert.Contains(result.Errors, e => e.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task an_until_that_is_not_a_date_is_refused_before_anything_is_created()
    {
        var data = Path.Combine(Path.GetTempPath(), $"nudge-demo-bad-{Guid.NewGuid():N}");
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try
        {
            var exit = await DemoCommand.Create().Parse(["--until", "22/11/2026", "--data", data, "--no-serve"]).InvokeAsync();
            Assert.Equal(1, exit);
        }
        finally
        {
            Console.SetError(previous);
        }

        Assert.Contains("--until must be a date such as 2026-11-22, not '22/11/2026'", error.ToString());
        Assert.False(Directory.Exists(data));
    }
}
