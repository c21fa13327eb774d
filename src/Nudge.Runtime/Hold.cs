namespace Nudge.Runtime;

/// <summary>A background loop held between its rounds; disposing the hold lets it go on.</summary>
internal sealed class Hold(SemaphoreSlim running) : IDisposable
{
    private int _disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) running.Release();
    }
}
