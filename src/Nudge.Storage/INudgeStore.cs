using Nudge.Engine.Catalog;
using Nudge.Engine.Customers;
using Nudge.Engine.Events;

namespace Nudge.Storage;

/// <summary>
/// The storage contract. SQLite and PostgreSQL implement it with one schema; the same contract tests
/// run against both.
/// </summary>
public interface INudgeStore : IAsyncDisposable
{
    /// <summary>"sqlite" or "postgres".</summary>
    string Provider { get; }

    /// <summary>Applies the schema migrations this build knows and the store has not seen, in order.</summary>
    Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Commits events to the log in one transaction, skipping any whose message id was committed
    /// within its dedupe window, and updates identities and traits from them. When this returns the
    /// events are durable.
    /// </summary>
    /// <param name="events">Events in the order they were received.</param>
    /// <param name="dedupeWindow">How long a message id is remembered; <see cref="TimeSpan.MaxValue"/> remembers it for ever (imports).</param>
    /// <param name="cancellationToken">Cancels before the commit.</param>
    Task<AppendResult> AppendAsync(IReadOnlyList<IncomingEvent> events, TimeSpan dedupeWindow, CancellationToken cancellationToken);

    /// <summary>Forgets message ids whose dedupe window ended before <paramref name="now"/>.</summary>
    Task<int> PruneDedupeAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The customer with this user id, or the customer an anonymous id or alias was joined to.</summary>
    Task<CustomerProfile?> GetCustomerAsync(string id, CancellationToken cancellationToken);

    /// <summary>Events filed under the customer (including anonymous events joined to them), newest first.</summary>
    /// <param name="userId">The customer's user id.</param>
    /// <param name="before">Only events with a position below this (paging); null for the newest.</param>
    /// <param name="limit">Page size.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<IReadOnlyList<StoredEvent>> GetCustomerEventsAsync(string userId, long? before, int limit, CancellationToken cancellationToken);

    /// <summary>Events in log order after <paramref name="after"/>.</summary>
    Task<IReadOnlyList<StoredEvent>> ReadLogAsync(long after, int limit, CancellationToken cancellationToken);

    /// <summary>Number of events in the log.</summary>
    Task<long> CountEventsAsync(CancellationToken cancellationToken);

    /// <summary>Creates or updates products in one transaction, recording each price and stock change.</summary>
    Task<IReadOnlyList<CatalogChange>> UpsertProductsAsync(IReadOnlyList<Product> products, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Removes a product, recording the removal; false when there was none.</summary>
    Task<bool> DeleteProductAsync(string productId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>One product, or null.</summary>
    Task<Product?> GetProductAsync(string productId, CancellationToken cancellationToken);

    /// <summary>Products ordered by id, after <paramref name="after"/> (keyset paging).</summary>
    Task<IReadOnlyList<Product>> ListProductsAsync(string? after, int limit, CancellationToken cancellationToken);

    /// <summary>Catalog changes in order after <paramref name="after"/>.</summary>
    Task<IReadOnlyList<CatalogChange>> ReadCatalogChangesAsync(long after, int limit, CancellationToken cancellationToken);

    /// <summary>The stored hash of the key of this kind (<c>write</c> or <c>admin</c>), or null.</summary>
    Task<string?> GetKeyHashAsync(string kind, CancellationToken cancellationToken);

    /// <summary>Stores (or replaces) the hash of the key of this kind.</summary>
    Task SetKeyHashAsync(string kind, string hash, DateTimeOffset at, CancellationToken cancellationToken);
}
