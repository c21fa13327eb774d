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

    // Decoding a state reads a dozen names; a full re-evaluation decodes a million states. Each thread
    // keeps the names it met last by their UTF-8 bytes, which spares the transcoding and the shared
    // table's lookup for the few hundred names that make up nearly all of them.
    private const int CachedPerThread = 1024;
    [ThreadStatic] private static (byte[] Utf8, string Name)[]? _recent;

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

        var recent = _recent ??= new (byte[], string)[CachedPerThread];
        ref var slot = ref recent[Slot(utf8)];
        if (slot.Utf8 is { } bytes && utf8.SequenceEqual(bytes)) return slot.Name;

        var shared = Decode(utf8);
        slot = (utf8.ToArray(), shared);
        return shared;
    }

    // Apart from Share so that the hit path does not clear a stack buffer it never uses.
    private static string Decode(ReadOnlySpan<byte> utf8)
    {
        Span<char> chars = stackalloc char[MaxLength];
        var length = Encoding.UTF8.GetChars(utf8, chars);
        return ByChars.TryGetValue(chars[..length], out var found) ? found : Add(new string(chars[..length]));
    }

    private static int Slot(ReadOnlySpan<byte> utf8)
    {
        var hash = new HashCode();
        hash.AddBytes(utf8);
        return hash.ToHashCode() & (CachedPerThread - 1);
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
