using Nudge.Engine.Messaging;

namespace Nudge.Engine.Tests.Messaging;

public class TrackingTests
{
    private readonly TrackingTokens _tokens = new(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());

    [Fact]
    public void a_token_reads_back_as_the_message_and_link_it_was_made_for()
    {
        var token = _tokens.Create(TrackingKind.Click, 123456789, 7);
        Assert.True(_tokens.TryRead(token, TrackingKind.Click, out var id, out var link));
        Assert.Equal((123456789L, 7), (id, link));
    }

    [Fact]
    public void any_edit_to_a_token_or_another_key_or_kind_is_refused()
    {
        var token = _tokens.Create(TrackingKind.Click, 42, 1);
        for (var i = 0; i < token.Length; i++)
        {
            var edited = token[..i] + (token[i] == 'A' ? 'B' : 'A') + token[(i + 1)..];
            Assert.False(_tokens.TryRead(edited, TrackingKind.Click, out _, out _), $"edit at {i} was accepted");
        }

        Assert.False(_tokens.TryRead(token, TrackingKind.Unsubscribe, out _, out _));
        Assert.False(new TrackingTokens(new byte[32]).TryRead(token, TrackingKind.Click, out _, out _));
        Assert.False(_tokens.TryRead("not-a-token", TrackingKind.Click, out _, out _));
    }

    [Fact]
    public void inbox_tokens_name_one_customer_and_cannot_be_forged()
    {
        var token = _tokens.ForCustomer("u-42");
        Assert.Equal("u-42", _tokens.CustomerOf(token));
        Assert.Null(_tokens.CustomerOf(_tokens.ForCustomer("u-43").Split('.')[0] + "." + token.Split('.')[1]));
        Assert.Null(_tokens.CustomerOf("garbage"));
    }

    [Fact]
    public void links_are_numbered_once_each_and_the_pixel_goes_before_the_body_ends()
    {
        var (html, text, links) = LinkTracking.Track(
            """<body><a href="https://shop.example/p?a=1&amp;b=2">A</a><a href="https://shop.example/p?a=1&amp;b=2">again</a><a href="https://u.example/x">unsub</a></body>""",
            "See https://shop.example/sale now", i => $"https://t.example/c/{i}", "https://t.example/o", keep: "https://u.example/x");
        Assert.Equal(["https://shop.example/p?a=1&b=2", "https://shop.example/sale"], links);
        Assert.Equal("""<body><a href="https://t.example/c/0">A</a><a href="https://t.example/c/0">again</a><a href="https://u.example/x">unsub</a><img src="https://t.example/o" width="1" height="1" alt="" style="display:none"></body>""", html);
        Assert.Equal("See https://t.example/c/1 now", text);
    }
}
