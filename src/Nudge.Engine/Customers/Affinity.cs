namespace Nudge.Engine.Customers;

/// <summary>
/// Weighted interest counts per key (category or brand). Bounded: past <see cref="Capacity"/> keys the
/// weakest is forgotten (ties broken by key), so memory per customer stays small and the result
/// depends only on the events, not on when they were folded. Kept as one small array rather than a
/// dictionary: every active customer holds two of these.
/// </summary>
public sealed class Affinity
{
    /// <summary>Keys kept per customer.</summary>
    public const int Capacity = 24;

    private (string Key, int Score)[]? _entries;
    private int _count;

    /// <summary>Number of keys.</summary>
    public int Count => _count;

    /// <summary>Adds weight to a key.</summary>
    public void Add(string? key, int weight)
    {
        if (string.IsNullOrWhiteSpace(key) || weight == 0) return;
        var i = IndexOf(key);
        if (i >= 0)
        {
            _entries![i].Score += weight;
            return;
        }

        if (_count >= Capacity)
        {
            var weakest = Weakest();
            if (_entries![weakest].Score > weight) return;
            _entries[weakest] = (key, weight);
            return;
        }

        Append(key, weight);
    }

    /// <summary>Makes room for <paramref name="keys"/> keys at once (a decoded state), sparing the arrays of growing one by one.</summary>
    public void Reserve(int keys)
    {
        keys = Math.Min(Capacity, keys);
        if (keys > (_entries?.Length ?? 0)) Array.Resize(ref _entries, keys);
    }

    /// <summary>Restores a stored score.</summary>
    public void Set(string key, int score)
    {
        var i = IndexOf(key);
        if (i >= 0) _entries![i].Score = score;
        else Append(key, score);
    }

    /// <summary>The key with the highest score (ties: the ordinal-first key), or null.</summary>
    public string? Top
    {
        get
        {
            string? top = null;
            var best = int.MinValue;
            for (var i = 0; i < _count; i++)
            {
                var (key, score) = _entries![i];
                if (score > best || (score == best && string.CompareOrdinal(key, top) < 0)) (top, best) = (key, score);
            }

            return top;
        }
    }

    /// <summary>The <paramref name="n"/> strongest keys with their scores.</summary>
    public IEnumerable<KeyValuePair<string, int>> TopN(int n) =>
        Entries().ToArray().OrderByDescending(p => p.Score).ThenBy(p => p.Key, StringComparer.Ordinal).Take(n).Select(p => KeyValuePair.Create(p.Key, p.Score));

    /// <summary>Every key with its score, in no particular order (a view, not a copy).</summary>
    public ReadOnlySpan<(string Key, int Score)> Entries() => _entries.AsSpan(0, _count);

    private int IndexOf(string key)
    {
        for (var i = 0; i < _count; i++)
            if (string.Equals(_entries![i].Key, key, StringComparison.Ordinal)) return i;
        return -1;
    }

    private void Append(string key, int score)
    {
        if (_entries is null || _count == _entries.Length) Array.Resize(ref _entries, Math.Min(Capacity, Math.Max(4, _count * 2)));
        _entries[_count++] = (key, score);
    }

    private int Weakest()
    {
        var weakest = 0;
        for (var i = 1; i < _count; i++)
        {
            var (key, score) = _entries![i];
            var (wKey, wScore) = _entries[weakest];
            if (score < wScore || (score == wScore && string.CompareOrdinal(key, wKey) > 0)) weakest = i;
        }

        return weakest;
    }
}
