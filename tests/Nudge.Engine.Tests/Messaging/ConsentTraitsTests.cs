using System.Text.Json;
using Nudge.Engine.Messaging;

namespace Nudge.Engine.Tests.Messaging;

public class ConsentTraitsTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void a_boolean_is_marketing_consent_and_an_object_names_topics()
    {
        var changes = ConsentTraits.Read("u1", """{"email": true, "sms": {"marketing": false, "transactional": true}}""", "identify", At).ToList();
        Assert.Equal(
            [new ConsentChange("u1", "email", "marketing", true, "identify", At), new ConsentChange("u1", "sms", "marketing", false, "identify", At),
             new ConsentChange("u1", "sms", "transactional", true, "identify", At)],
            changes);
    }

    [Theory]
    [InlineData("\"yes\"", "traits.consent")]
    [InlineData("""{"fax": true}""", "traits.consent.fax")]
    [InlineData("""{"email": "yes"}""", "traits.consent.email")]
    [InlineData("""{"sms": {"promo": true}}""", "traits.consent.sms.promo")]
    [InlineData("""{"sms": {"marketing": 1}}""", "traits.consent.sms.marketing")]
    public void invalid_consent_is_reported_by_its_path(string json, string path)
    {
        List<string> problems = [];
        ConsentTraits.Validate(JsonDocument.Parse(json).RootElement, (field, _) => problems.Add(field));
        Assert.Equal([path], problems);
    }
}
