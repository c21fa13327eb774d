namespace Nudge.Storage;

/// <summary>One saved version of a journey.</summary>
/// <param name="Id">The journey id.</param>
/// <param name="Version">1, 2, ...</param>
/// <param name="Json">The document as JSON.</param>
/// <param name="Source">Where it came from: <c>api</c>, or the file it was loaded from.</param>
/// <param name="CreatedAt">When this version was saved.</param>
public sealed record StoredJourney(string Id, int Version, string Json, string Source, DateTimeOffset CreatedAt);

/// <summary>A count of journey activity: instances entered, held out, reaching a step, or ending for a reason.</summary>
/// <param name="Version">The journey version.</param>
/// <param name="Kind">entered, holdout, step or ended.</param>
/// <param name="Step">For steps: which.</param>
/// <param name="Reason">For ends: why; for split steps: the variant.</param>
/// <param name="Count">How many.</param>
public sealed record JourneyCount(int Version, string Kind, string? Step, string? Reason, long Count);

/// <summary>One line of a customer's journey history.</summary>
/// <param name="JourneyId">The journey.</param>
/// <param name="Version">Its version.</param>
/// <param name="Instance">The instance number.</param>
/// <param name="Kind">entered, holdout, step or ended.</param>
/// <param name="Step">The step reached.</param>
/// <param name="Reason">Why it ended, or the split variant.</param>
/// <param name="At">When.</param>
public sealed record JourneyHistoryEntry(string JourneyId, int Version, long Instance, string Kind, string? Step, string? Reason, DateTimeOffset At);

/// <summary>A follow-up for customer service opened by a journey (客服跟进).</summary>
/// <param name="Id">Assigned when stored.</param>
/// <param name="Key">Idempotency key: journey, version, instance and step.</param>
/// <param name="CustomerId">The customer to follow up.</param>
/// <param name="JourneyId">The journey that opened it.</param>
/// <param name="Step">The step.</param>
/// <param name="Title">What to do.</param>
/// <param name="Note">Details.</param>
/// <param name="Queue">The team it goes to.</param>
/// <param name="DataJson">The instance's triggering object.</param>
/// <param name="CreatedAt">When it was opened.</param>
/// <param name="DoneAt">When it was closed, if it was.</param>
/// <param name="DoneBy">Who closed it.</param>
public sealed record StaffTask(long Id, string Key, string CustomerId, string JourneyId, string Step, string Title, string? Note, string Queue, string? DataJson,
    DateTimeOffset CreatedAt, DateTimeOffset? DoneAt = null, string? DoneBy = null);

/// <summary>A customer who showed interest in a product, from their events.</summary>
/// <param name="CustomerId">The customer.</param>
/// <param name="LastViewed">Their latest view of it in the window asked for, if any.</param>
/// <param name="AddedToCart">They added it to the cart at some time.</param>
/// <param name="AddedToWishlist">They added it to the wishlist at some time.</param>
public sealed record ProductInterest(string CustomerId, DateTimeOffset? LastViewed, bool AddedToCart, bool AddedToWishlist);
