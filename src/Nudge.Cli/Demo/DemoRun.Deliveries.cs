using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MimeKit;

namespace Nudge.Cli.Demo;

internal sealed partial class DemoRun
{
    private long _lastMail;
    private long _lastInbox;
    private long _inboxDelivered;

    [GeneratedRegex(@"https?://[^\s""'<>)]+/t/c/[A-Za-z0-9._~-]+")]
    private static partial Regex ClickLink();

    [GeneratedRegex(@"https?://[^\s""'<>)]+/t/o/[A-Za-z0-9._~-]+")]
    private static partial Regex OpenPixel();

    /// <summary>What arrived this hour, by channel, read by the customer it reached; <paramref name="Content"/> names it the same way every run.</summary>
    private sealed record Arrival(Shopper Shopper, string Channel, string Content, string? Pixel, string? Link, string? Unsubscribe);

    [GeneratedRegex(@"https?://\S+|\b[A-Z0-9]{6,}\b")]
    private static partial Regex Varying();

    /// <summary>
    /// Reads everything delivered during the hour — caught mail, provider requests, inbox arrivals —
    /// and lets each customer react. Sorted by customer first, so each one's choices come in the same
    /// order every run, whatever order the engine happened to send in.
    /// </summary>
    private async Task ReadDeliveriesAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        List<Arrival> arrivals = [];
        foreach (var mail in Mail.After(_lastMail))
        {
            _lastMail = mail.Id;
            if (!_byAddress.TryGetValue(mail.To[0], out var shopper)) continue;
            var message = Nudge.Server.Api.MailApi.Parse(mail);
            var html = message.HtmlBody ?? "";
            var unsubscribe = message.Headers[HeaderId.ListUnsubscribe] is { } header ? header.Trim().TrimStart('<').TrimEnd('>') : null;
            arrivals.Add(new Arrival(shopper, "email", message.Subject ?? "", OpenPixel().Match(html) is { Success: true } p ? Decode(p.Value) : null,
                ClickLink().Match(html) is { Success: true } c ? Decode(c.Value) : null, unsubscribe));
        }

        foreach (var request in _sink.Take())
        {
            var (address, text) = request.Provider switch
            {
                ProviderSink.Sms => (request.Body["to"]?.GetValue<string>(), request.Body["text"]?.GetValue<string>()),
                ProviderSink.WeCom => (request.Body["text"]?["mentioned_mobile_list"]?[0]?.GetValue<string>(), request.Body["text"]?["content"]?.GetValue<string>()),
                _ => (request.Body["at"]?["atMobiles"]?[0]?.GetValue<string>(), request.Body["markdown"]?["text"]?.GetValue<string>()),
            };
            // A group post that mentions nobody reaches the group, not a customer we can follow.
            if (address is null || !_byAddress.TryGetValue(address, out var shopper)) continue;
            arrivals.Add(new Arrival(shopper, request.Provider, Varying().Replace(text ?? "", ""), null, text is null ? null : ClickLink().Match(text) is { Success: true } c ? c.Value : null, null));
        }

        // The shop's app learns of new inbox messages (over the SSE stream in a real app); the
        // customer reads them at their next visit.
        for (IReadOnlyList<Nudge.Storage.InboxItem> page; (page = await Store.ListInboxAsync(null, _lastInbox, false, 1000, cancellationToken)).Count > 0;)
        {
            foreach (var item in page)
            {
                _lastInbox = item.Id;
                _inboxDelivered++;
                if (!_byId.TryGetValue(item.CustomerId, out var shopper)) continue;
                if (!_unread.TryGetValue(shopper, out var ids)) _unread[shopper] = ids = [];
                ids.Add(item.Id);
            }
        }

        // Sorted, and each with a random stream of its own (from what it is, not when it happened to
        // arrive), so the customers' answers are the same every run whatever order the engine sent in.
        foreach (var a in arrivals.OrderBy(a => a.Shopper.Index).ThenBy(a => a.Channel, StringComparer.Ordinal).ThenBy(a => a.Content, StringComparer.Ordinal))
            _behaviour.Receive(a.Shopper, a.Channel, at, a.Pixel, a.Link, a.Unsubscribe, new Random(StableHash($"{_settings.Seed}|{a.Shopper.Id}|{a.Channel}|{at:O}|{a.Content}")));
    }

    /// <summary>A hash that is the same in every process (string.GetHashCode is not).</summary>
    private static int StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text) hash = (hash ^ c) * 16777619u;
        return (int)hash;
    }

    private static string Decode(string url) => System.Net.WebUtility.HtmlDecode(url);
}
