using System.Text.Json;
using Nudge.Engine.Coupons;

namespace Nudge.Engine.Tests.Messaging;

public class CouponCampaignTests
{
    private static CouponCampaign Parse(string json)
    {
        var (campaign, errors) = CouponCampaign.Parse(JsonDocument.Parse(json).RootElement, "winback");
        Assert.True(campaign is not null, string.Join("; ", errors));
        return campaign;
    }

    [Fact]
    public void a_threshold_coupon_reads_as_the_seed_writes_it()
    {
        var c = Parse("""{"kind": "threshold", "threshold": 200, "value": 50, "validDays": 7}""");
        Assert.Equal("满200减50", c.Describe("zh-CN"));
        Assert.Equal("50 off orders of 200 or more", c.Describe("en"));
        Assert.Equal("9折", Parse("""{"kind": "percent", "value": 10}""").Describe("zh-CN"));
    }

    [Fact]
    public void validity_is_days_from_issue_or_an_absolute_end_whichever_comes_first()
    {
        var issued = new DateTimeOffset(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);
        Assert.Equal(issued.AddDays(1), Parse("""{"value": 20, "validDays": 1}""").ExpiresAt(issued));
        Assert.Equal(issued.AddHours(3), Parse("""{"value": 20, "validDays": 1, "validUntil": "2026-11-22T11:00:00Z"}""").ExpiresAt(issued));
        Assert.Null(Parse("""{"value": 20}""").ExpiresAt(issued));
    }

    [Fact]
    public void generated_codes_are_unique_and_avoid_look_alike_characters()
    {
        var c = Parse("""{"value": 20, "prefix": "WB-"}""");
        var codes = Enumerable.Range(0, 1000).Select(_ => c.NewCode()).ToList();
        Assert.Equal(1000, codes.Distinct().Count());
        Assert.All(codes, code => Assert.Matches("^WB-[2-9A-HJKMNP-Z]{10}$", code));
    }

    [Fact]
    public void every_mistake_in_a_campaign_is_named()
    {
        var (campaign, errors) = CouponCampaign.Parse(JsonDocument.Parse("""
            {"kind": "bogo", "value": -5, "source": "magic", "validUntil": "soon", "validDays": 0, "perCustomer": "two"}
            """).RootElement, "bad id!");
        Assert.Null(campaign);
        Assert.Equal(["id", "kind", "value", "source", "validUntil", "validDays", "perCustomer"], errors.Select(e => e.Split(':')[0]));
        Assert.Contains("threshold: is required", CouponCampaign.Parse(JsonDocument.Parse("""{"kind": "threshold", "value": 50}""").RootElement, "x").Errors.Single());
    }
}
