using System.Text;
using Nudge.Engine.Events;

namespace Nudge.Engine.Tests.Events;

public class SegmentParserTests
{
    private static readonly DateTimeOffset ReceivedAt = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private readonly SegmentParser _parser = new(IngestLimits.Segment);

    private ParseResult Single(string json, EventType type = EventType.Track) => _parser.ParseSingle(Encoding.UTF8.GetBytes(json), type, ReceivedAt);

    private ParseResult Batch(string json) => _parser.ParseBatch(Encoding.UTF8.GetBytes(json), ReceivedAt);

    /// <summary>A track message padded with a property to exactly <paramref name="bytes"/> bytes of JSON.</summary>
    internal static string TrackOfSize(int bytes, string messageId = "m1")
    {
        var head = "{\"userId\":\"u1\",\"messageId\":\"" + messageId + "\",\"event\":\"Pad\",\"properties\":{\"pad\":\"";
        const string tail = "\"}}";
        return head + new string('x', bytes - head.Length - tail.Length) + tail;
    }

    [Fact]
    public void clock_skew_is_corrected_from_sent_at()
    {
        // The device clock is 10 minutes fast: it stamped the event 5 s before it sent it.
        var result = Single("""{"userId":"u1","event":"Viewed","timestamp":"2026-11-22T12:10:00Z","sentAt":"2026-11-22T12:10:05Z"}""");
        Assert.Equal(ReceivedAt.AddSeconds(-5), Assert.Single(result.Events).Timestamp);
    }

    [Fact]
    public void batch_sent_at_corrects_every_message_and_original_timestamp_wins_over_timestamp()
    {
        var result = Batch("""
            {"sentAt":"2026-11-22T11:00:10Z","batch":[
              {"type":"track","userId":"u1","event":"A","timestamp":"2026-11-22T11:00:00Z"},
              {"type":"track","userId":"u1","event":"B","originalTimestamp":"2026-11-22T11:00:08Z","timestamp":"2000-01-01T00:00:00Z"}]}
            """);
        Assert.Equal([ReceivedAt.AddSeconds(-10), ReceivedAt.AddSeconds(-2)], result.Events.Select(e => e.Timestamp));
    }

    [Fact]
    public void a_message_without_timestamp_is_stamped_with_the_receive_time_and_without_sent_at_is_taken_as_is()
    {
        Assert.Equal(ReceivedAt, Assert.Single(Single("""{"userId":"u1","event":"A"}""").Events).Timestamp);
        var historic = new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);
        Assert.Equal(historic, Assert.Single(Single("""{"userId":"u1","event":"A","timestamp":"2024-01-02T03:04:05Z"}""").Events).Timestamp);
    }

    [Theory]
    [InlineData("""{"userId":"u1"}""", "event")]
    [InlineData("""{"event":"A"}""", "userId")]
    [InlineData("""{"userId":{"id":1},"event":"A"}""", "userId")]
    [InlineData("""{"userId":"u1","event":42}""", "event")]
    [InlineData("""{"userId":"u1","event":"A","timestamp":"yesterday"}""", "timestamp")]
    [InlineData("""{"userId":"u1","event":"A","properties":[1,2]}""", "properties")]
    [InlineData("""{"userId":"u1","event":"A","context":"web"}""", "context")]
    [InlineData("""{"userId":"u1","event":"Order Completed","properties":{"total":"lots"}}""", "properties.total")]
    [InlineData("""{"userId":"u1","event":"Order Completed","properties":{"products":[{"sku":"a","quantity":true}]}}""", "properties.products[0].quantity")]
    [InlineData("""{"userId":"u1","event":"Product Viewed","properties":{"price":[]}}""", "properties.price")]
    public void a_bad_track_is_rejected_naming_the_field(string json, string field)
    {
        var result = Single(json);
        Assert.Empty(result.Events);
        Assert.Contains(result.Errors, e => e.Field == field);
    }

    [Fact]
    public void alias_needs_previous_id_and_user_id()
    {
        Assert.Equal("previousId", Assert.Single(Single("""{"userId":"u1"}""", EventType.Alias).Errors).Field);
        var ok = Assert.Single(Single("""{"userId":"u1","previousId":"anon-9"}""", EventType.Alias).Events);
        Assert.Equal(("u1", "anon-9"), (ok.UserId, ok.PreviousId));
    }

    [Fact]
    public void a_sent_at_centuries_away_is_rejected_naming_it_instead_of_overflowing()
    {
        var result = Single("""{"userId":"u1","event":"A","timestamp":"0001-01-02T00:00:00Z","sentAt":"9999-01-01T00:00:00Z"}""");
        Assert.Empty(result.Events);
        Assert.Equal("sentAt", Assert.Single(result.Errors).Field);
    }

    [Fact]
    public void a_lone_surrogate_or_a_nul_character_rejects_only_its_message()
    {
        var result = Batch("""
            {"batch":[{"type":"track","userId":"\ud800","event":"A"},
                      {"type":"track","userId":"u\u0000","event":"A"},
                      {"type":"identify","userId":"u1","traits":{"a\u0000":1}},
                      {"type":"track","userId":"u1","event":"ok"}]}
            """);
        Assert.Equal(["ok"], result.Events.Select(e => e.Name));
        Assert.Equal([(0, ""), (1, "userId"), (2, "traits")], result.Errors.Select(e => (e.Index!.Value, e.Field)));
    }

    [Theory]
    [InlineData("""{"sentAt":"soon","batch":[{"type":"track","userId":"u1","event":"A"}]}""", "sentAt: must be an ISO-8601")]
    [InlineData("""{"writeKey":42,"batch":[{"type":"track","userId":"u1","event":"A"}]}""", "writeKey: must be a string")]
    public void a_bad_batch_envelope_refuses_the_whole_batch(string json, string expected)
    {
        var result = Batch(json);
        Assert.Empty(result.Events);
        Assert.StartsWith(expected, result.BodyError);
    }

    [Fact]
    public void numeric_ids_are_accepted_as_written()
    {
        var e = Assert.Single(Single("""{"userId":12345,"event":"A","messageId":987}""").Events);
        Assert.Equal(("12345", "987"), (e.UserId, e.MessageId));
    }

    [Fact]
    public void a_batch_keeps_the_valid_messages_and_names_each_bad_one_by_index()
    {
        var result = Batch("""
            {"batch":[
              {"type":"track","userId":"u1","event":"A"},
              {"type":"track","userId":"u1"},
              {"type":"identify","anonymousId":"a1","traits":{"email":"x@y.z"}},
              {"type":"launch","userId":"u1"},
              "not an object"]}
            """);
        Assert.Equal(["A", null], result.Events.Select(e => e.Name));
        Assert.Equal([(1, "event"), (3, "type"), (4, "")], result.Errors.Select(e => (e.Index!.Value, e.Field)));
        Assert.Equal("batch[1].event: is required for a track call: the name of what the customer did, e.g. \"Order Completed\"", result.Errors[0].ToString());
    }

    [Fact]
    public void malformed_json_is_a_body_error_with_its_position()
    {
        var result = Batch("""{"batch":[{"type":"track",}]}""");
        Assert.StartsWith("The body is not valid JSON at line 1", result.BodyError);
    }

    [Fact]
    public void a_message_exactly_at_32_kb_passes_and_one_byte_over_is_rejected()
    {
        Assert.Single(Single(TrackOfSize(32 * 1024)).Events);
        Assert.Contains("limit is 32768 bytes", Single(TrackOfSize(32 * 1024 + 1)).BodyError);

        var inBatch = Batch($$"""{"batch":[{{TrackOfSize(32 * 1024).Replace("{\"userId", "{\"type\":\"track\",\"userId", StringComparison.Ordinal)}}]}""");
        Assert.Contains("limit is 32768 bytes", Assert.Single(inBatch.Errors).Detail); // 32 KB is measured on the message as sent
        var exact = TrackOfSize(32 * 1024 - 15).Replace("{\"userId", "{\"type\":\"track\",\"userId", StringComparison.Ordinal);
        Assert.Equal(32 * 1024, Encoding.UTF8.GetByteCount(exact));
        Assert.Single(Batch($$"""{"batch":[{{exact}}]}""").Events);
    }

    [Fact]
    public void a_batch_of_exactly_2500_messages_passes_and_2501_is_rejected()
    {
        static string Of(int n) => "{\"batch\":[" + string.Join(',', Enumerable.Range(0, n).Select(i => $$"""{"type":"track","userId":"u","event":"E","messageId":"{{i}}"}""")) + "]}";
        Assert.Equal(2500, Batch(Of(2500)).Events.Count);
        Assert.Equal("The batch holds 2501 messages; the limit is 2500.", Batch(Of(2501)).BodyError);
    }

    [Fact]
    public void write_key_in_the_body_is_read()
    {
        Assert.Equal("wk", Single("""{"writeKey":"wk","userId":"u1","event":"A"}""").WriteKey);
        Assert.Equal("wk", Batch("""{"writeKey":"wk","batch":[]}""").WriteKey);
    }

    [Fact]
    public void identify_traits_are_kept_as_raw_json_values()
    {
        var e = Assert.Single(Single("""{"userId":"u1","traits":{"email":"a@b.c","vip":true,"address":{"city":"杭州"}}}""", EventType.Identify).Events);
        Assert.Equal([new Trait("email", "\"a@b.c\""), new Trait("vip", "true"), new Trait("address", """{"city":"杭州"}""")], e.Traits);
    }
}
