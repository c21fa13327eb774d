using System.Threading.RateLimiting;

namespace Nudge.Channels;

/// <summary>Keeps a provider under its messages-per-second limit; a send waits for its turn instead of being refused.</summary>
public sealed class SendRate : IDisposable
{
    private readonly TokenBucketRateLimiter? _limiter;

    /// <summary>A gate letting <paramref name="perSecond"/> messages through each second; 0 lets everything through.</summary>
    public SendRate(int perSecond)
    {
        if (perSecond <= 0) return;
        _limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = perSecond, TokensPerPeriod = perSecond, ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = int.MaxValue, QueueProcessingOrder = QueueProcessingOrder.OldestFirst, AutoReplenishment = true,
        });
    }

    /// <summary>Waits until one more message may go.</summary>
    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        if (_limiter is null) return;
        using var lease = await _limiter.AcquireAsync(1, cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose() => _limiter?.Dispose();
}
