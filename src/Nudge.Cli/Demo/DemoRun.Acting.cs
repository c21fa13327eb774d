using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Runtime.Delivery;

namespace Nudge.Cli.Demo;

internal sealed partial class DemoRun
{
    private readonly Dictionary<Shopper, List<long>> _unread = [];
    private readonly ConcurrentDictionary<Shopper, string> _inboxTokens = [];

    /// <summary>
    /// Carries out the hour's actions. Shopping and the shop's own events are handed in first, in
    /// time order; then the hour's opens, clicks, unsubscribes and inbox reads hit the tracking
    /// endpoints, each customer's in order and different customers side by side.
    /// </summary>
    private async Task ActAsync(List<DemoAction> actions, CancellationToken cancellationToken)
    {
        List<JsonObject> events = [];
        List<DemoAction> calls = [];
        foreach (var action in actions)
        {
            switch (action)
            {
                case SignUp signUp:
                    await _behaviour.SignUpAsync(signUp, events);
                    break;
                case Visit or MessageVisit:
                    if (_unread.Remove(action.Shopper, out var ids) && action.Shopper.Random.NextDouble() < 0.7) calls.Add(new ReadInbox(action.At, action.Shopper, ids));
                    await _behaviour.VisitAsync(action, events);
                    break;
                case Fulfil fulfil:
                    events.Add(Behaviour.Fulfilment(fulfil));
                    break;
                default:
                    calls.Add(action);
                    break;
            }
        }

        await PostAsync(events, cancellationToken);
        ConcurrentDictionary<Click, string?> landed = [];
        await Parallel.ForEachAsync(calls.GroupBy(c => c.Shopper), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (calls, ct) =>
        {
            foreach (var call in calls)
            {
                switch (call)
                {
                    case Open open:
                        await GetAsync(open.Url, ct);
                        break;
                    case Click click:
                        var target = await GetAsync(click.Url, ct);
                        landed[click] = target is { } t && t.AbsolutePath.StartsWith("/p/", StringComparison.Ordinal) ? t.AbsolutePath[3..] : null;
                        break;
                    case Unsubscribe unsubscribe:
                        using (var request = new HttpRequestMessage(HttpMethod.Post, unsubscribe.Url) { Content = new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]) })
                        {
                            using var response = await _http.SendAsync(request, ct);
                            await EnsureAsync(response, "a one-click unsubscribe");
                        }

                        break;
                    case ReadInbox read:
                        await ReadInboxAsync(read.Shopper, read.Ids, ct);
                        break;
                }
            }
        });

        // A click lands on a product page (or the shop's front page): a visit from the message, planned in the hour's order.
        foreach (var click in calls.OfType<Click>())
            _agenda.Plan(new MessageVisit(click.At + TimeSpan.FromMinutes(1), click.Shopper, landed[click]));
    }

    /// <summary>GETs a tracking link the way a mail client or browser would; returns where a click redirects.</summary>
    private async Task<Uri?> GetAsync(string url, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(url, cancellationToken);
        await EnsureAsync(response, $"the tracking link {url}");
        return response.Headers.Location;
    }

    /// <summary>The best unexpired, unused coupon the customer holds for this order, as a checkout would offer it.</summary>
    private async Task<HeldCoupon?> BestCouponAsync(Shopper shopper, decimal total, DateTimeOffset at)
    {
        var coupons = Services.GetRequiredService<Coupons>();
        HeldCoupon? best = null;
        foreach (var code in await Store.CustomerCouponsAsync(shopper.Id, _stop.Token))
        {
            if (code.RedeemedAt is not null || code.ExpiresAt is { } expires && expires <= at || coupons.Find(code.CampaignId) is not { } campaign) continue;
            var discount = campaign.DiscountOn(total);
            if (discount > 0 && (best is null || discount > best.Discount)) best = new HeldCoupon(code.Code, discount);
        }

        return best;
    }

    /// <summary>Opens the app's inbox: marks the messages read, each counting as an open.</summary>
    private async Task ReadInboxAsync(Shopper shopper, List<long> ids, CancellationToken cancellationToken)
    {
        if (!_inboxTokens.TryGetValue(shopper, out var token))
        {
            using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, $"/api/customers/{shopper.Id}/inbox-token");
            tokenRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
            using var tokenResponse = await _http.SendAsync(tokenRequest, cancellationToken);
            await EnsureAsync(tokenResponse, "an inbox token");
            _inboxTokens[shopper] = token = JsonNode.Parse(await tokenResponse.Content.ReadAsStringAsync(cancellationToken))!["token"]!.GetValue<string>();
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/inbox/read?token={Uri.EscapeDataString(token)}")
        {
            Content = new StringContent(new JsonObject { ["ids"] = new JsonArray([.. ids.Select(i => (JsonNode)i)]) }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        using var response = await _http.SendAsync(request, cancellationToken);
        await EnsureAsync(response, "reading the inbox");
    }
}
