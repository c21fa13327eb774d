using System.Data.Common;

namespace Nudge.Storage;

/// <summary>
/// An open write transaction and the connection it is on. Disposing it rolls back what was not
/// committed and gives the connection back (closing it, or releasing the store's one writer).
/// </summary>
public sealed class WriteScope(DbConnection connection, DbTransaction transaction, Func<ValueTask> release) : IAsyncDisposable
{
    public DbConnection Connection { get; } = connection;

    public DbTransaction Transaction { get; } = transaction;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Transaction.DisposeAsync();
        }
        finally
        {
            await release();
        }
    }
}
