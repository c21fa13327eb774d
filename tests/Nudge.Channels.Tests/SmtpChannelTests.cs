using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using MimeKit;
using MimeKit.Cryptography;
using Nudge.Channels.Email;
using Nudge.Engine.Messaging;
using Nudge.Engine.Messaging.Templates;

namespace Nudge.Channels.Tests;

public sealed class SmtpChannelTests : IAsyncLifetime
{
    private SmtpSink _sink = null!;

    public async Task InitializeAsync() => _sink = await SmtpSink.StartAsync();

    public async Task DisposeAsync() => await _sink.DisposeAsync();

    private SmtpChannel Channel(DkimSettings? dkim = null, int connections = 2) =>
        new(new SmtpSettings { Host = "127.0.0.1", Port = _sink.Port, From = "Shop <news@shop.example>", Connections = connections, Dkim = dkim });

    private static OutgoingMessage Message(long id, string to, string topic = Topics.Marketing) => new(
        id, $"journey:1:i{id}:s1", "u1", topic, to,
        new RenderedMessage("en", "Your cart 🛒", "<p>Hello <b>Ada</b></p>", "Hello Ada"),
        UnsubscribeUrl: $"https://nudge.example/t/u/token{id}");

    [Fact]
    public async Task marketing_mail_arrives_with_html_text_and_one_click_unsubscribe_headers()
    {
        await using var channel = Channel();
        var result = await channel.SendAsync(Message(1, "ada@example.com"), CancellationToken.None);
        Assert.Equal(SendStatus.Sent, result.Status);

        var mail = Assert.Single(await _sink.WaitForAsync(1));
        Assert.Equal(["ada@example.com"], mail.Recipients);
        Assert.Equal("news@shop.example", mail.MailFrom);
        var mime = mail.Parse();
        Assert.Equal("Your cart 🛒", mime.Subject);
        Assert.Equal("<https://nudge.example/t/u/token1>", mime.Headers[HeaderId.ListUnsubscribe]);
        Assert.Equal("List-Unsubscribe=One-Click", mime.Headers[HeaderId.ListUnsubscribePost]);
        Assert.Equal("<p>Hello <b>Ada</b></p>", mime.HtmlBody?.Trim());
        Assert.Equal("Hello Ada", mime.TextBody?.Trim());
        Assert.IsType<MultipartAlternative>(mime.Body);
    }

    [Fact]
    public async Task a_message_sent_is_not_kept_alive_by_the_channel()
    {
        // Every message once stayed reachable through the shared sender address's Changed event.
        await using var channel = Channel();
        var built = BuildAndForget(channel);
        Assert.Equal(SendStatus.Sent, (await channel.SendAsync(Message(7, "ada@example.com"), CancellationToken.None)).Status);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(built.IsAlive, "a built message is still reachable from the channel");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference BuildAndForget(SmtpChannel channel) => new(channel.Build(Message(6, "ada@example.com")));

    [Fact]
    public async Task transactional_mail_has_no_unsubscribe_header_and_a_stable_message_id()
    {
        await using var channel = Channel();
        await channel.SendAsync(Message(2, "ada@example.com", Topics.Transactional), CancellationToken.None);
        var mime = Assert.Single(await _sink.WaitForAsync(1)).Parse();
        Assert.Null(mime.Headers[HeaderId.ListUnsubscribe]);
        Assert.Equal(channel.Build(Message(2, "ada@example.com", Topics.Transactional)).MessageId, mime.MessageId);
    }

    [Fact]
    public async Task many_messages_over_pooled_connections_arrive_once_each()
    {
        await using var channel = Channel(connections: 4);
        var results = await Task.WhenAll(Enumerable.Range(1, 40).Select(i => channel.SendAsync(Message(i, $"c{i}@example.com"), CancellationToken.None)));
        Assert.All(results, r => Assert.Equal(SendStatus.Sent, r.Status));
        var mails = await _sink.WaitForAsync(40);
        Assert.Equal(Enumerable.Range(1, 40).Select(i => $"c{i}@example.com").Order(), mails.SelectMany(m => m.Recipients).Order());
    }

    [Fact]
    public async Task a_refused_mailbox_is_an_invalid_address_and_a_malformed_one_never_reaches_the_server()
    {
        await using var channel = Channel();
        Assert.Equal(SendStatus.InvalidAddress, (await channel.SendAsync(Message(3, "bounce@example.com"), CancellationToken.None)).Status);
        Assert.Equal(SendStatus.InvalidAddress, (await channel.SendAsync(Message(4, "not an address"), CancellationToken.None)).Status);
        Assert.Equal(SendStatus.Sent, (await channel.SendAsync(Message(5, "ok@example.com"), CancellationToken.None)).Status);
        Assert.Single(await _sink.WaitForAsync(1));
    }

    [Fact]
    public async Task a_server_that_refuses_or_is_down_gives_retryable_failures_and_the_pool_recovers()
    {
        await using var channel = Channel();
        _sink.Refuse(true);
        var refused = await channel.SendAsync(Message(6, "ada@example.com"), CancellationToken.None);
        Assert.Equal(SendStatus.Transient, refused.Status);
        Assert.Contains("421", refused.Error);
        _sink.Refuse(false);

        await _sink.StopAsync();
        Assert.Equal(SendStatus.Transient, (await channel.SendAsync(Message(7, "ada@example.com"), CancellationToken.None)).Status);
        await _sink.StartAgainAsync();
        Assert.Equal(SendStatus.Sent, (await channel.SendAsync(Message(8, "ada@example.com"), CancellationToken.None)).Status);
        Assert.Single(await _sink.WaitForAsync(1));
    }

    [Fact]
    public async Task dkim_signatures_verify_against_the_published_key()
    {
        using var rsa = RSA.Create(2048);
        var keyFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(keyFile, rsa.ExportRSAPrivateKeyPem());
        try
        {
            await using var channel = Channel(new DkimSettings("shop.example", "s1", keyFile));
            await channel.SendAsync(Message(9, "ada@example.com"), CancellationToken.None);
            var mime = Assert.Single(await _sink.WaitForAsync(1)).Parse();
            var signature = mime.Headers[mime.Headers.IndexOf(HeaderId.DkimSignature)];
            Assert.Contains("d=shop.example", signature.Value);
            var verifier = new DkimVerifier(new Locator(Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo())));
            Assert.True(await verifier.VerifyAsync(mime, mime.Headers[mime.Headers.IndexOf(HeaderId.DkimSignature)]));
        }
        finally
        {
            File.Delete(keyFile);
        }
    }

    private sealed class Locator(string publicKey) : DkimPublicKeyLocatorBase
    {
        public override Org.BouncyCastle.Crypto.AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            GetPublicKey($"v=DKIM1; k=rsa; p={publicKey}");

        public override Task<Org.BouncyCastle.Crypto.AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));
    }
}
