using Nudge.Engine.Catalog;
using Nudge.Engine.Customers;
using Nudge.Engine.Events;
using Nudge.Engine.Messaging;

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

    /// <summary>The position of the newest event in the log (0 when empty).</summary>
    Task<long> LastPositionAsync(CancellationToken cancellationToken);

    /// <summary>Creates or updates products in one transaction, recording each price and stock change.</summary>
    Task<IReadOnlyList<CatalogChange>> UpsertProductsAsync(IReadOnlyList<Product> products, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Removes a product, recording the removal; false when there was none.</summary>
    Task<bool> DeleteProductAsync(string productId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>One product, or null.</summary>
    Task<Product?> GetProductAsync(string productId, CancellationToken cancellationToken);

    /// <summary>Products ordered by id, after <paramref name="after"/> (keyset paging).</summary>
    Task<IReadOnlyList<Product>> ListProductsAsync(string? after, int limit, CancellationToken cancellationToken);

    /// <summary>When each product was first listed.</summary>
    Task<IReadOnlyDictionary<string, DateTimeOffset>> ProductListingTimesAsync(CancellationToken cancellationToken);

    /// <summary>Catalog changes in order after <paramref name="after"/>.</summary>
    Task<IReadOnlyList<CatalogChange>> ReadCatalogChangesAsync(long after, int limit, CancellationToken cancellationToken);

    /// <summary>The stored hash of the key of this kind (<c>write</c> or <c>admin</c>), or null.</summary>
    Task<string?> GetKeyHashAsync(string kind, CancellationToken cancellationToken);

    /// <summary>Stores (or replaces) the hash of the key of this kind.</summary>
    Task SetKeyHashAsync(string kind, string hash, DateTimeOffset at, CancellationToken cancellationToken);

    // ---- Customer runtime ----

    /// <summary>Events in log order after <paramref name="after"/>, each with the customer its ids resolve to now.</summary>
    Task<IReadOnlyList<OwnedEvent>> ReadLogForDispatchAsync(long after, int limit, CancellationToken cancellationToken);

    /// <summary>All events of a customer (every joined id) up to and including a position, in log order: what a rebuild folds.</summary>
    Task<IReadOnlyList<StoredEvent>> ReadCustomerLogAsync(string userId, long upTo, CancellationToken cancellationToken);

    /// <summary>The encoded state last written for a customer, or null.</summary>
    Task<byte[]?> LoadStateAsync(string customerId, CancellationToken cancellationToken);

    /// <summary>
    /// The writes in the order the store writes them back cheapest when they are split over several
    /// transactions: each transaction then covers its own stretch of the table, so no page of it is
    /// written once per transaction.
    /// </summary>
    Task<IReadOnlyList<CustomerStateWrite>> InWriteOrderAsync(IReadOnlyList<CustomerStateWrite> writes, CancellationToken cancellationToken);

    /// <summary>
    /// Writes customer states, their changes, the segment member lists those changes imply, product
    /// interest and runtime settings (such as the dispatch checkpoint) in one transaction.
    /// </summary>
    Task SaveStatesAsync(IReadOnlyList<CustomerStateWrite> writes, IReadOnlyList<CustomerTouch> touches, IReadOnlyDictionary<string, string>? meta, DateTimeOffset at,
        CancellationToken cancellationToken);

    /// <summary><see cref="SaveStatesAsync(IReadOnlyList{CustomerStateWrite}, IReadOnlyList{CustomerTouch}, IReadOnlyDictionary{string, string}?, DateTimeOffset, CancellationToken)"/> without product interest.</summary>
    Task SaveStatesAsync(IReadOnlyList<CustomerStateWrite> writes, IReadOnlyDictionary<string, string>? meta, DateTimeOffset at, CancellationToken cancellationToken) =>
        SaveStatesAsync(writes, [], meta, at, cancellationToken);

    /// <summary>
    /// Customers whose durable timer is due by <paramref name="until"/>, earliest first (ties by id),
    /// starting after <paramref name="after"/> when given: the last customer of the previous page.
    /// </summary>
    Task<IReadOnlyList<(string CustomerId, DateTimeOffset Due)>> DueCustomersAsync(
        DateTimeOffset until, int limit, (string CustomerId, DateTimeOffset Due)? after, CancellationToken cancellationToken);

    /// <summary>Every stored customer state, in storage order.</summary>
    IAsyncEnumerable<byte[]> ScanStatesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Visits every stored customer state, split into up to <paramref name="partitions"/> parts read in
    /// parallel; each part calls the visitor made for it by <paramref name="visitorFor"/>, on one thread.
    /// </summary>
    Task VisitStatesAsync(int partitions, Func<int, StateVisitor> visitorFor, CancellationToken cancellationToken);

    /// <summary>Number of stored customer states.</summary>
    Task<long> CountStatesAsync(CancellationToken cancellationToken);

    /// <summary>Members of a segment ordered by customer id, after <paramref name="after"/> (keyset paging).</summary>
    Task<IReadOnlyList<SegmentMember>> SegmentMembersAsync(string segmentId, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>Number of members of a segment.</summary>
    Task<long> CountSegmentMembersAsync(string segmentId, CancellationToken cancellationToken);

    /// <summary>A customer's tag, stage, RFM and segment changes, newest first.</summary>
    Task<IReadOnlyList<CustomerChange>> CustomerChangesAsync(string customerId, int limit, CancellationToken cancellationToken);

    /// <summary>The definitions version and every stored definition.</summary>
    Task<(long Version, IReadOnlyList<StoredDefinition> Definitions)> LoadDefinitionsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Changes definitions of one kind in one transaction — deletes, then upserts; with
    /// <paramref name="replaceKind"/> every definition of the kind is replaced — and returns the new version.
    /// </summary>
    Task<long> ReplaceDefinitionsAsync(string kind, IReadOnlyList<StoredDefinition> put, IReadOnlyList<string> delete, bool replaceKind, CancellationToken cancellationToken);

    /// <summary>A runtime setting (dispatch checkpoint, RFM cut points...), or null.</summary>
    Task<string?> GetMetaAsync(string key, CancellationToken cancellationToken);

    /// <summary>Stores a runtime setting.</summary>
    Task SetMetaAsync(string key, string value, CancellationToken cancellationToken);

    /// <summary>
    /// Sets a customer aside (or updates why); a customer already set aside keeps their first position.
    /// Their durable timer is cleared: nothing runs for them until they are released and re-evaluated.
    /// </summary>
    Task QuarantineAsync(QuarantinedCustomer customer, CancellationToken cancellationToken);

    /// <summary>Every customer set aside, oldest first.</summary>
    Task<IReadOnlyList<QuarantinedCustomer>> QuarantinedAsync(CancellationToken cancellationToken);

    /// <summary>Ends a customer's quarantine; false when they were not in it.</summary>
    Task<bool> ReleaseQuarantineAsync(string customerId, CancellationToken cancellationToken);

    // ---- Messaging ----

    /// <summary>Queues a message for an intent, unless one with its idempotency key exists (then nothing changes).</summary>
    Task<EnqueueResult> EnqueueMessageAsync(MessageIntent intent, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Queues many intents in one transaction, each at most once per idempotency key; returns, per intent, whether it made a new message.</summary>
    Task<IReadOnlyList<bool>> EnqueueMessagesAsync(IReadOnlyList<MessageIntent> intents, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Takes up to <paramref name="limit"/> due messages (queued, deferred, retry), earliest first and
    /// then by customer and idempotency key, marking them claimed. The order never depends on the order
    /// messages were written in, so which of a customer's simultaneous messages a cap lets through is
    /// the same however a burst is split into rounds.
    /// </summary>
    Task<IReadOnlyList<MessageRecord>> ClaimDueMessagesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>When the next queued, deferred or retried message is due, or null when none waits.</summary>
    Task<DateTimeOffset?> NextMessageDueAsync(CancellationToken cancellationToken);

    /// <summary>Records delivery decisions and outcomes in one transaction.</summary>
    Task UpdateMessagesAsync(IReadOnlyList<MessageUpdate> updates, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>After a restart: claimed messages are queued again; messages interrupted mid-send are dead, with the reason.</summary>
    Task<int> RecoverMessagesAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Marketing messages sent (or being sent) to a customer since <paramref name="since"/>: what caps count.</summary>
    Task<IReadOnlyList<SentMessage>> RecentMarketingAsync(string customerId, DateTimeOffset since, CancellationToken cancellationToken);

    /// <summary>One message, or null.</summary>
    Task<MessageRecord?> GetMessageAsync(long id, CancellationToken cancellationToken);

    /// <summary>Messages newest first, optionally of one customer and/or status, before an id (paging).</summary>
    Task<IReadOnlyList<MessageRecord>> ListMessagesAsync(string? customerId, string? status, long? before, int limit, CancellationToken cancellationToken);

    /// <summary>Number of messages per status.</summary>
    Task<IReadOnlyDictionary<string, long>> CountMessagesByStatusAsync(CancellationToken cancellationToken);

    /// <summary>Queues a dead message again; false when it is not dead.</summary>
    Task<bool> RetryMessageAsync(long id, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Queues again every message dead because a stop cut its send short; returns how many.</summary>
    Task<int> RetryInterruptedAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The URL recorded for a link of a message, or null.</summary>
    Task<string?> GetMessageLinkAsync(long messageId, int link, CancellationToken cancellationToken);

    /// <summary>Adds entries to the consent ledger.</summary>
    Task RecordConsentAsync(IReadOnlyList<ConsentChange> changes, CancellationToken cancellationToken);

    /// <summary>A customer's consent ledger (under every id joined to them), oldest first.</summary>
    Task<IReadOnlyList<ConsentChange>> ConsentLedgerAsync(string userId, CancellationToken cancellationToken);

    /// <summary>Stops delivery to an address on a channel (hard bounce, invalid address, unsubscribed address).</summary>
    Task SuppressAsync(string channel, string address, string reason, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Lifts a suppression; false when there was none.</summary>
    Task<bool> UnsuppressAsync(string channel, string address, CancellationToken cancellationToken);

    /// <summary>Why an address is suppressed on a channel, or null.</summary>
    Task<string?> SuppressionAsync(string channel, string address, CancellationToken cancellationToken);

    /// <summary>Puts a message in a customer's in-app inbox and returns its inbox id; null when that message is already there.</summary>
    Task<long?> AddInboxAsync(InboxItem item, CancellationToken cancellationToken);

    /// <summary>A customer's inbox (null: every customer's) after an id, oldest first.</summary>
    Task<IReadOnlyList<InboxItem>> ListInboxAsync(string? customerId, long? after, bool unreadOnly, int limit, CancellationToken cancellationToken);

    /// <summary>Marks inbox entries read; returns the outbox message ids of those newly read.</summary>
    Task<IReadOnlyList<long>> MarkInboxReadAsync(string customerId, IReadOnlyList<long> ids, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Every stored template.</summary>
    Task<IReadOnlyList<StoredTemplate>> LoadTemplatesAsync(CancellationToken cancellationToken);

    /// <summary>Creates or replaces a template.</summary>
    Task PutTemplateAsync(StoredTemplate template, CancellationToken cancellationToken);

    /// <summary>Deletes a template; false when there was none.</summary>
    Task<bool> DeleteTemplateAsync(string id, CancellationToken cancellationToken);

    /// <summary>Customers whose <c>email</c> or <c>phone</c> trait is exactly <paramref name="value"/> (an SMS reply finds its sender).</summary>
    Task<IReadOnlyList<string>> CustomersWithContactAsync(string trait, string value, CancellationToken cancellationToken);

    /// <summary>Creates or replaces a coupon campaign.</summary>
    Task PutCouponCampaignAsync(string id, string json, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Every coupon campaign document.</summary>
    Task<IReadOnlyList<(string Id, string Json)>> LoadCouponCampaignsAsync(CancellationToken cancellationToken);

    /// <summary>Adds codes to a campaign's pool; returns how many were new.</summary>
    Task<int> AddCouponCodesAsync(string campaignId, IReadOnlyList<string> codes, CancellationToken cancellationToken);

    /// <summary>Issues a code within the per-customer limit: the same one again for the same message.</summary>
    Task<CouponIssued> IssueCouponAsync(CouponIssue issue, CancellationToken cancellationToken);

    /// <summary>Marks an issued code redeemed by an order; false when unknown, not issued or already redeemed.</summary>
    Task<bool> RedeemCouponAsync(string code, string orderId, decimal revenue, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Issued, redeemed, revenue and pool left of a campaign.</summary>
    Task<CouponStats> CouponStatsAsync(string campaignId, CancellationToken cancellationToken);

    /// <summary>The codes issued to a customer.</summary>
    Task<IReadOnlyList<CouponCode>> CustomerCouponsAsync(string customerId, CancellationToken cancellationToken);

    /// <summary>Profiles, consent ledgers, states, recent marketing and suppressions of many customers, read on one connection.</summary>
    Task<IReadOnlyList<DeliveryFacts>> DeliveryFactsAsync(IReadOnlyList<string> customerIds, DateTimeOffset since, CancellationToken cancellationToken);

    // Journeys

    /// <summary>Every stored journey version, by id then version.</summary>
    Task<IReadOnlyList<StoredJourney>> LoadJourneysAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Saves a new version of a journey: <paramref name="jsonFor"/> gets the version number it would have
    /// and returns the document (null: refuse). Through the API, a document equal to the latest version
    /// is not saved again; from a file, one equal to what that file last brought in is not.
    /// </summary>
    Task<(int Version, bool Created)> SaveJourneyAsync(string id, Func<int, string?> jsonFor, string source, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Removes a journey with all its versions (kept as deleted: version numbers go on); instances still inside end when next touched.</summary>
    Task<bool> DeleteJourneyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Activity counts of a journey by version, kind, step and reason.</summary>
    Task<IReadOnlyList<JourneyCount>> JourneyCountsAsync(string journeyId, CancellationToken cancellationToken);

    /// <summary>A customer's journey history, newest first.</summary>
    Task<IReadOnlyList<JourneyHistoryEntry>> CustomerJourneysAsync(string customerId, int limit, CancellationToken cancellationToken);

    /// <summary>Opens a staff task once per key; false when the key was seen before.</summary>
    Task<bool> AddStaffTaskAsync(StaffTask task, CancellationToken cancellationToken);

    /// <summary>Staff tasks by id, optionally of one queue and open only.</summary>
    Task<IReadOnlyList<StaffTask>> ListStaffTasksAsync(string? queue, bool openOnly, long? after, int limit, CancellationToken cancellationToken);

    /// <summary>Closes a task (if open); returns it, or null when there is none with that id.</summary>
    Task<StaffTask?> CompleteStaffTaskAsync(long id, string by, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Customers who viewed a product since a time, or ever added it to their cart or wishlist: whom a
    /// price drop or restock may concern. The runtime keeps this interest with the states it writes;
    /// events after <paramref name="writtenUpTo"/> (the runtime's checkpoint) are read from the log.
    /// </summary>
    Task<IReadOnlyList<ProductInterest>> CustomersInterestedInAsync(string productId, DateTimeOffset viewedSince, long writtenUpTo, CancellationToken cancellationToken);
}
