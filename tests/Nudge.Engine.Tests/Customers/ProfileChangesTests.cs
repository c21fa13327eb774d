using Nudge.Engine.Customers;
using Nudge.Engine.Events;

namespace Nudge.Engine.Tests.Customers;

public class ProfileChangesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static IncomingEvent Identify(string user, int minutes, params Trait[] traits) =>
        new($"m{minutes}", EventType.Identify, null, user, null, null, T0.AddMinutes(minutes), T0, traits, "{}"u8.ToArray());

    [Fact]
    public void the_latest_trait_by_event_timestamp_wins_whatever_the_arrival_order()
    {
        var changes = ProfileChanges.From([
            Identify("u1", 10, new Trait("city", "\"杭州\"")),
            Identify("u1", 5, new Trait("city", "\"上海\""), new Trait("email", "\"a@b.c\"")),
        ]);
        Assert.Equal("\"杭州\"", changes.Traits[("u1", "city")].JsonValue);
        Assert.Equal("\"a@b.c\"", changes.Traits[("u1", "email")].JsonValue);
        Assert.Equal((T0.AddMinutes(5), T0.AddMinutes(10)), changes.Customers["u1"]);
    }

    [Fact]
    public void an_event_with_both_ids_links_the_anonymous_id_and_alias_links_the_previous_id()
    {
        var changes = ProfileChanges.From([
            new IncomingEvent("a", EventType.Track, "Product Added", "u1", "anon-1", null, T0, T0, [], "{}"u8.ToArray()),
            new IncomingEvent("b", EventType.Alias, null, "u1", null, "old-id", T0, T0, [], "{}"u8.ToArray()),
            new IncomingEvent("c", EventType.Track, "Product Added", "u2", "anon-1", null, T0, T0, [], "{}"u8.ToArray()),
        ]);
        Assert.Equal(("anonymous", "u1"), (changes.Links["anon-1"].Kind, changes.Links["anon-1"].UserId));
        Assert.Equal(("alias", "u1"), (changes.Links["old-id"].Kind, changes.Links["old-id"].UserId));
    }
}
