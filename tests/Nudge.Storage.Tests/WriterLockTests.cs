using Nudge.Storage.Sqlite;

namespace Nudge.Storage.Tests;

public sealed class WriterLockTests
{
    [Fact]
    public async Task appends_waiting_for_the_writer_go_before_other_writes_and_a_cancelled_wait_is_passed_over()
    {
        var writer = new WriterLock();
        await writer.EnterAsync(first: false, CancellationToken.None);
        List<string> order = [];
        using var cancel = new CancellationTokenSource();
        var waits = new[]
        {
            Take("write-back 1", first: false, CancellationToken.None),
            Take("append 1", first: true, CancellationToken.None),
            Take("outbox (cancelled)", first: false, cancel.Token),
            Take("write-back 2", first: false, CancellationToken.None),
            Take("append 2", first: true, CancellationToken.None),
        };
        await cancel.CancelAsync();
        writer.Exit();
        await Task.WhenAll(waits);

        Assert.Equal(["append 1", "append 2", "write-back 1", "write-back 2"], order);
        // Everyone has left: the writer is free again.
        Assert.True(writer.EnterAsync(first: false, CancellationToken.None).IsCompletedSuccessfully);

        async Task Take(string name, bool first, CancellationToken cancellationToken)
        {
            try
            {
                await writer.EnterAsync(first, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            lock (order) order.Add(name);
            writer.Exit();
        }
    }
}
