using System.Globalization;
using System.Text;
using Nudge.Engine.Events;

namespace Nudge.Benchmarks;

/// <summary>Synthetic shoppers: mostly views, some cart adds, fewer orders, spread over 60 days.</summary>
internal static class Shoppers
{
    /// <param name="customers">Customers to choose from.</param>
    /// <param name="events">Events to make.</param>
    /// <param name="now">The time the events are received.</param>
    /// <param name="seed">Makes the stream reproducible.</param>
    /// <param name="prefix">Message and order id prefix, so streams do not collide.</param>
    /// <param name="session">Events a customer makes in a row: 1 is the worst case (every event a different customer).</param>
    /// <param name="customerPrefix">Customer id prefix, so that a stream can have customers of its own.</param>
    public static IEnumerable<IncomingEvent> Events(int customers, int events, DateTimeOffset now, int seed, string prefix = "b", int session = 1, string customerPrefix = "c")
    {
        var random = new Random(seed);
        var user = "";
        for (var n = 0; n < events; n++)
        {
            if (n % session == 0) user = $"{customerPrefix}{random.Next(customers)}";
            var at = now.AddMinutes(-random.Next(0, 60 * 24 * 60));
            var category = BenchDefinitions.Categories[random.Next(BenchDefinitions.Categories.Length)];
            var roll = random.Next(20);
            var (name, properties) = roll switch
            {
                0 => ("Order Completed", $$"""{"order_id":"{{prefix}}o{{n}}","total":{{random.Next(20, 800)}},"currency":"CNY","products":[{"product_id":"p{{random.Next(500)}}","price":{{random.Next(20, 800)}},"category":"{{category}}"}]}"""),
                < 4 => ("Product Added", $$"""{"product_id":"p{{random.Next(500)}}","price":{{random.Next(5, 300)}},"quantity":1,"category":"{{category}}","brand":"brand{{random.Next(20)}}"}"""),
                _ => ("Product Viewed", $$"""{"product_id":"p{{random.Next(500)}}","category":"{{category}}","brand":"brand{{random.Next(20)}}"}"""),
            };
            var json = $$"""{"type":"track","userId":"{{user}}","event":"{{name}}","properties":{{properties}},"timestamp":"{{at.ToString("O", CultureInfo.InvariantCulture)}}"}""";
            yield return new IncomingEvent($"{prefix}{n}", EventType.Track, name, user, null, null, at, now, [], Encoding.UTF8.GetBytes(json));
        }
    }
}
