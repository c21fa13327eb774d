using System.Globalization;
using System.Text;
using Nudge.Engine.Events;

namespace Nudge.Benchmarks;

/// <summary>Synthetic shoppers: mostly views, some cart adds, fewer orders, spread over 60 days.</summary>
internal static class Shoppers
{
    public static IEnumerable<IncomingEvent> Events(int customers, int events, DateTimeOffset now, int seed, string prefix = "b")
    {
        var random = new Random(seed);
        for (var n = 0; n < events; n++)
        {
            var user = $"c{random.Next(customers)}";
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
