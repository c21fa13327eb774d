using Nudge.Storage;

namespace Nudge.Server.Operations;

/// <summary>Forgets message ids whose dedupe window has ended, once an hour, so the dedupe table stays the size of one window.</summary>
public sealed partial class DedupePruner(INudgeStore store, NudgeOptions options, ILogger<DedupePruner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), options.Time);
        do
        {
            try
            {
                var removed = await store.PruneDedupeAsync(options.Time.GetUtcNow(), stoppingToken);
                if (removed > 0) LogPruned(logger, removed);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A failed prune is retried next hour; ingestion is unaffected.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogFailed(logger, e);
            }
        }
        while (await NextTickAsync(timer, stoppingToken));
    }

    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Forgot {Count} message ids past their dedupe window")]
    private static partial void LogPruned(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pruning the dedupe table failed; retrying in an hour")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
