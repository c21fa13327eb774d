using Nudge.Channels.Email;
using Nudge.Engine.Messaging;
using Nudge.Engine.Messaging.Templates;

namespace Nudge.Channels.Tests;

public sealed class MailCatcherTests
{
    [Fact]
    public async Task the_catcher_keeps_what_a_real_smtp_client_sends_byte_for_byte_after_dot_unstuffing()
    {
        await using var catcher = new MailCatcher(keep: 2);
        await using var channel = new SmtpChannel(new SmtpSettings { Port = catcher.Port, Connections = 2 });
        var text = "Line one\r\n.starts with a dot\r\n..two dots";
        for (var i = 0; i < 3; i++)
        {
            var message = new OutgoingMessage(i, $"k{i}", "u1", Topics.Transactional, $"c{i}@example.com", new RenderedMessage("en", $"Subject {i}", null, text));
            Assert.Equal(SendStatus.Sent, (await channel.SendAsync(message, CancellationToken.None)).Status);
        }

        Assert.Equal(3, catcher.Received);
        var kept = catcher.Messages;
        Assert.Equal(["c1@example.com", "c2@example.com"], kept.SelectMany(m => m.To));
        var mime = MimeKit.MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(kept[^1].Data)));
        Assert.Equal("Subject 2", mime.Subject);
        Assert.Equal(text.Replace("\r\n", "\n", StringComparison.Ordinal), mime.TextBody?.TrimEnd('\r', '\n'));
    }
}
