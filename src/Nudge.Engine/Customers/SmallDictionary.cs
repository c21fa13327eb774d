using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Nudge.Engine.Customers;

/// <summary>
/// A map from names to values for the handful of entries a customer has per kind (tags, segments,
/// event counters): one array of pairs searched in order. Against a dictionary it saves the buckets
/// and hash codes — several hundred bytes per resident customer — and is as fast for ten entries.
/// </summary>
/// <typeparam name="TValue">The value type.</typeparam>
public sealed class SmallDictionary<TValue> : IReadOnlyDictionary<string, TValue>
{
    private KeyValuePair<string, TValue>[] _entries = [];
    private int _count;

    /// <inheritdoc/>
    public int Count => _count;

    /// <inheritdoc/>
    public TValue this[string key]
    {
        get => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"'{key}' is not in the map.");
        set
        {
            var i = IndexOf(key);
            if (i >= 0)
            {
                _entries[i] = new(key, value);
                return;
            }

            if (_count == _entries.Length) Array.Resize(ref _entries, Math.Max(2, _count * 2));
            _entries[_count++] = new(key, value);
        }
    }

    /// <inheritdoc/>
    public IEnumerable<string> Keys => this.Select(e => e.Key);

    /// <inheritdoc/>
    public IEnumerable<TValue> Values => this.Select(e => e.Value);

    /// <inheritdoc/>
    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    /// <inheritdoc/>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out TValue value)
    {
        var i = IndexOf(key);
        value = i >= 0 ? _entries[i].Value : default;
        return i >= 0;
    }

    /// <summary>Removes a key; false when it was not there.</summary>
    public bool Remove(string key)
    {
        var i = IndexOf(key);
        if (i < 0) return false;
        _entries[i] = _entries[--_count];
        _entries[_count] = default;
        return true;
    }

    /// <summary>Makes room for <paramref name="capacity"/> entries at once (decoding).</summary>
    public void EnsureCapacity(int capacity)
    {
        if (capacity > _entries.Length) Array.Resize(ref _entries, capacity);
    }

    /// <summary>Enumerates without allocating.</summary>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<KeyValuePair<string, TValue>> IEnumerable<KeyValuePair<string, TValue>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private int IndexOf(string key)
    {
        for (var i = 0; i < _count; i++)
            if (string.Equals(_entries[i].Key, key, StringComparison.Ordinal)) return i;
        return -1;
    }

    /// <summary>Enumerator over the entries in insertion order (until a removal reorders them).</summary>
    public struct Enumerator(SmallDictionary<TValue> map) : IEnumerator<KeyValuePair<string, TValue>>
    {
        private int _index = -1;

        /// <inheritdoc/>
        public readonly KeyValuePair<string, TValue> Current => map._entries[_index];

        readonly object IEnumerator.Current => Current;

        /// <inheritdoc/>
        public bool MoveNext() => ++_index < map._count;

        /// <inheritdoc/>
        public void Reset() => _index = -1;

        /// <inheritdoc/>
        public readonly void Dispose()
        {
        }
    }
}
