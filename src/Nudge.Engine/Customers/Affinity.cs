namespace Nudge.Engine.Customers;

/// <summary>
/// Weighted interest counts per key (category or brand). Bounded: past <see cref="Capacity"/> keys the
/// weakest is forgotten (ties broken by key), so memory per customer stays small and the result
/// depends only on the events, not on when they were folded.
/// </summary>
public sealed class Affinity
{
    /// <summary>Keys kept per customer.</summary>
    public const int Capacity = 24;

    private readonly Dictionary<string, int> _scores = new(StringComparer.Ordinal);

    /// <summary>Scores by key.</summary>
    public IReadOnlyDictionary<string, int> Scores => _scores;

    /// <summary>Adds weight to a key.</summary>
    public void Add(string? key, int weight)
    {
        if (string.IsNullOrWhiteSpace(key) || weight == 0) return;
        if (_scores.TryGetValue(key, out var score))
        {
            _scores[key] = score + weight;
            return;
        }

        if (_scores.Count >= Capacity)
        {
            var weakest = Weakest();
            if (_scores[weakest] > weight) return;
            _scores.Remove(weakest);
        }

        _scores[key] = weight;
    }

    /// <summary>Restores a stored score.</summary>
    public void Set(string key, int score) => _scores[key] = score;

    /// <summary>The key with the highest score (ties: the ordinal-first key), or null.</summary>
    public string? Top
    {
        get
        {
            string? top = null;
            var best = int.MinValue;
            foreach (var (key, score) in _scores)
            {
                if (score > best || (score == best && string.CompareOrdinal(key, top) < 0))
                    (top, best) = (key, score);
            }

            return top;
        }
    }

    /// <summary>The <paramref name="n"/> strongest keys with their scores.</summary>
    public IEnumerable<KeyValuePair<string, int>> TopN(int n) => Ranked().Take(n);

    private IOrderedEnumerable<KeyValuePair<string, int>> Ranked() =>
        _scores.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal);

    private string Weakest()
    {
        string? weakest = null;
        var min = int.MaxValue;
        foreach (var (key, score) in _scores)
        {
            if (score < min || (score == min && string.CompareOrdinal(key, weakest) > 0))
                (weakest, min) = (key, score);
        }

        return weakest!;
    }
}
