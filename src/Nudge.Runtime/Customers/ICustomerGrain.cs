using Nudge.Engine.Events;
using Orleans;
using Orleans.Concurrency;

namespace Nudge.Runtime.Customers;

/// <summary>
/// One customer, keyed by user id. Applies that customer's events in log order, exactly once, keeps
/// the derived state and writes it back in batches.
/// </summary>
public interface ICustomerGrain : IGrainWithStringKey
{
    /// <summary>Applies events of this customer in log order; events at or below the applied position are skipped.</summary>
    Task ApplyAsync(Immutable<StoredEvent[]> events);

    /// <summary>
    /// After a quarantine: applies every event of this customer in the log up to <paramref name="upTo"/>
    /// not applied yet, in log order. With <paramref name="rebuild"/>, the stored state is discarded and
    /// the customer is folded afresh from the log instead (for a state that cannot be read).
    /// </summary>
    Task CatchUpAsync(long upTo, bool rebuild);

    /// <summary>The durable timer came due: re-evaluates at the due time (and now, if later).</summary>
    Task CheckAsync(DateTimeOffset due);

    /// <summary>Re-evaluates against the current definitions (after a definition change).</summary>
    Task RefreshAsync();

    /// <summary>The encoded current state (see <c>CustomerStateCodec</c>).</summary>
    Task<Immutable<byte[]>> GetStateAsync();

    /// <summary>Sets (value given) or removes (null) a custom tag; false when a tag rule owns that name.</summary>
    Task<bool> SetTagAsync(string name, string? value);

    /// <summary>An occurrence of a scheduled journey reached this customer: they enter it once per occurrence.</summary>
    Task EnterScheduledAsync(string journeyId, DateTimeOffset occurrence);

    /// <summary>A price drop or restock of a product the customer showed interest in (a <c>CatalogOffer</c> as JSON): it may let them into a journey.</summary>
    Task OfferAsync(string offerJson, DateTimeOffset? lastViewed);

    /// <summary>This customer was merged into another: forget the state and leave every segment.</summary>
    /// <returns>The customer's journey history (<see cref="Nudge.Engine.Journeys.JourneyEntry"/> by journey, as JSON), for the customer it was merged into.</returns>
    Task<string> RetireAsync(string mergedInto);
}
