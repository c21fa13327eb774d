using Microsoft.Extensions.Configuration;

namespace Nudge.Server.Tests;

public sealed class HostBuilderTests
{
    [Fact]
    public void the_web_host_reads_appsettings_without_watching_the_working_directory()
    {
        var builder = NudgeApp.CreateBuilder();

        var files = ((IConfigurationBuilder)builder.Configuration).Sources.OfType<FileConfigurationSource>().ToList();
        Assert.NotEmpty(files);
        Assert.All(files, f => Assert.False(f.ReloadOnChange, $"{f.Path} is watched for changes"));
    }
}
