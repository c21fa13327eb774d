using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Nudge.Channels.Webhooks;
using Nudge.Engine.Messaging;
using Nudge.Engine.Messaging.Templates;

namespace Nudge.Channels.Tests;

public sealed class SendRateTests
{
    [Fact]
    public async Task a_provider_limited_to_five_a_second_gets_ten_messages_over_at_least_a_second_and_every_one_arrives()
    {
        using var sink = new HttpSink();
        using var channel = new WebhookChannel(new WebhookSettings(sink.Url, "secret", AllowPrivateTargets: true, RatePerSecond: 5), new FakeTimeProvider());
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => channel.SendAsync(
            new OutgoingMessage(i, $"k{i}", "u1", Topics.Marketing, "u1", new RenderedMessage("en", "s", null, "t")), CancellationToken.None)));
        clock.Stop();
        Assert.All(results, r => Assert.Equal(SendStatus.Sent, r.Status));
        Assert.Equal(10, sink.Requests.Count);
        // The bucket starts full (5), the next 5 wait for the refill a second later.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"10 messages at 5/s took only {clock.Elapsed.TotalSeconds:0.00} s");
    }
}
