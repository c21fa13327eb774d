using System.Collections.Concurrent;
using System.Text;

namespace Nudge.Engine.Customers;

/// <summary>
/// Names that repeat across customers — tag, segment, stage and counter names, categories — are
/// shared, so a million resident customers do not hold a million copies of "top_category".
/// </summary>
internal static class SharedNames
{
    private const int MaxLength = 128, MaxEntries = 100_000;
    private static readonly ConcurrentDictionary<string, string> Shared = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> ByChars = Shared.GetAlternateLookup<ReadOnlySpan<char>>();

    // ConcurrentDictionary.Count takes every lock of the table: on the hot path it made all cores
    // queue on one another, so the size is kept apart (an estimate is enough for a cap).
    private static int _count;

    /// <summary>The shared copy of a name.</summary>
    public static string Share(string name) => name.Length > MaxLength * 4 ? name : Lookup(name);

    /// <summary>The shared string for these UTF-8 bytes; allocates only the first time a name is seen.</summary>
    public static string Share(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxLength)
        {
            // Long names (the counter signature) are rare enough to decode first, and worth sharing most.
            return Lookup(Encoding.UTF8.GetString(utf8));
        }

        Span<char> chars = stackalloc char[MaxLength];
        var length = Encoding.UTF8.GetChars(utf8, chars);
        if (ByChars.TryGetValue(chars[..length], out var shared)) return shared;
        return Add(new string(chars[..length]));
    }

    private static string Lookup(string name) => Shared.TryGetValue(name, out var shared) ? shared : Add(name);

    private static string Add(string name)
    {
        if (Volatile.Read(ref _count) >= MaxEntries) return name;
        var shared = Shared.GetOrAdd(name, name);
        if (ReferenceEquals(shared, name)) Interlocked.Increment(ref _count);
        return shared;
    }
}
