using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nudge.Engine.Commerce;
using Nudge.Engine.Coupons;
using Nudge.Runtime.Dispatch;
using Nudge.Storage;

namespace Nudge.Runtime.Delivery;

/// <summary>Coupon campaigns in force, and issuing codes from them.</summary>
public sealed class Coupons(INudgeStore store, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, CouponCampaign> _campaigns = new(StringComparer.Ordinal);

    /// <summary>Every campaign.</summary>
    public IReadOnlyCollection<CouponCampaign> Campaigns => [.. _campaigns.Values.OrderBy(c => c.Id, StringComparer.Ordinal)];

    /// <summary>A campaign, or null.</summary>
    public CouponCampaign? Find(string id) => _campaigns.GetValueOrDefault(id);

    /// <summary>Loads the stored campaigns.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        foreach (var (id, json) in await store.LoadCouponCampaignsAsync(cancellationToken))
        {
            using var doc = JsonDocument.Parse(json);
            if (CouponCampaign.Parse(doc.RootElement, id).Campaign is { } campaign) _campaigns[id] = campaign;
        }
    }

    /// <summary>Checks and saves a campaign.</summary>
    public async Task<(CouponCampaign? Campaign, List<string> Errors)> PutAsync(string id, JsonElement document, CancellationToken cancellationToken)
    {
        var (campaign, errors) = CouponCampaign.Parse(document, id);
        if (campaign is null) return (null, errors);
        await store.PutCouponCampaignAsync(id, document.GetRawText(), time.GetUtcNow(), cancellationToken);
        _campaigns[id] = campaign;
        return (campaign, errors);
    }

    /// <summary>Issues a code of a campaign to a customer (the same one again for the same message, or the same issue key).</summary>
    public async Task<CouponIssued> IssueAsync(CouponCampaign campaign, string customerId, long? messageId, string? issueKey, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await store.IssueCouponAsync(new CouponIssue(campaign.Id, customerId, messageId, campaign.PerCustomer,
                    campaign.Source == "generated" ? campaign.NewCode() : null, now, campaign.ExpiresAt(now), issueKey), cancellationToken);
            }
            catch (System.Data.Common.DbException) when (attempt < 3 && campaign.Source == "generated")
            {
                // A generated code that already exists (one in 31^10): draw another.
            }
        }
    }

    /// <summary>The <c>coupon</c> variable of templates.</summary>
    public static Dictionary<string, object?> TemplateValue(CouponCampaign campaign, CouponCode code, string locale) => new(StringComparer.Ordinal)
    {
        ["code"] = code.Code, ["campaign"] = campaign.Id, ["name"] = campaign.Name, ["description"] = campaign.Describe(locale),
        ["kind"] = campaign.Kind, ["value"] = campaign.Value, ["threshold"] = campaign.Threshold,
        ["expires_at"] = code.ExpiresAt?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// Follows the event log for Order Completed events carrying a <c>coupon</c> property and marks that
/// code redeemed, with the order's total: what coupon stats count as redemptions and revenue.
/// </summary>
public sealed partial class CouponRedemptions(INudgeStore store, EventLogSignal signal, ILogger<CouponRedemptions> logger) : BackgroundService
{
    /// <summary>The runtime setting holding the last log position read for redemptions.</summary>
    public const string CheckpointKey = "coupon_redemption_position";

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var position = long.Parse(await store.GetMetaAsync(CheckpointKey, stoppingToken) ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var events = await store.ReadLogAsync(position, 5_000, stoppingToken);
                foreach (var e in events)
                {
                    if (e.Name == "Order Completed" && Redemption(e.Json) is { } r)
                        await store.RedeemCouponAsync(r.Code, r.OrderId, r.Total, e.Timestamp, stoppingToken);
                }

                if (events.Count > 0)
                {
                    position = events[^1].Position;
                    await store.SetMetaAsync(CheckpointKey, position.ToString(System.Globalization.CultureInfo.InvariantCulture), stoppingToken);
                    continue;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, e);
            }

            await signal.Redemptions.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken);
        }
    }

    private static (string Code, string OrderId, decimal Total)? Redemption(string json)
    {
        using var doc = JsonDocument.Parse(json);
        if (!doc.RootElement.TryGetProperty("properties", out var p) || p.ValueKind != JsonValueKind.Object) return null;
        var order = CommerceProperties.Read("Order Completed", p);
        return order?.Coupon is { Length: > 0 } code ? (code, order.OrderId ?? "", order.Amount ?? 0) : null;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Reading coupon redemptions from the event log failed; it is tried again")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
