using Microsoft.AspNetCore.Http.HttpResults;
using Nudge.Storage;

namespace Nudge.Server.Api;

public static class CustomersApi
{
    private const int RecentEvents = 20;
    private const int MaxPage = 500;

    public static RouteGroupBuilder MapCustomersApi(this RouteGroupBuilder api)
    {
        var customers = api.MapGroup("/customers").WithTags("Customers");
        customers.MapGet("/{id}", GetCustomerAsync)
            .WithSummary("A customer's profile, identities, traits and recent events")
            .WithDescription("The id may be the user id, or an anonymous id or alias joined to the customer.");
        customers.MapGet("/{id}/events", GetEventsAsync)
            .WithSummary("A customer's events, newest first, paged")
            .WithDescription("Includes anonymous events from before the customer was identified. Pass the returned `next` as `before` for the next page.");
        return api;
    }

    private static async Task<Results<Ok<CustomerView>, ProblemHttpResult>> GetCustomerAsync(string id, INudgeStore store, CancellationToken cancellationToken)
    {
        var profile = await store.GetCustomerAsync(id, cancellationToken);
        if (profile is null) return NoCustomer(id);
        var recent = await store.GetCustomerEventsAsync(profile.UserId, null, RecentEvents, cancellationToken);
        return TypedResults.Ok(CustomerView.From(profile, recent));
    }

    private static async Task<Results<Ok<EventPage>, ProblemHttpResult>> GetEventsAsync(
        string id, INudgeStore store, CancellationToken cancellationToken, long? before = null, int limit = 50)
    {
        if (limit is < 1 or > MaxPage) return Problems.BadRequest("Invalid query.", $"limit must be between 1 and {MaxPage}.");
        var profile = await store.GetCustomerAsync(id, cancellationToken);
        if (profile is null) return NoCustomer(id);
        var events = await store.GetCustomerEventsAsync(profile.UserId, before, limit, cancellationToken);
        return TypedResults.Ok(new EventPage([.. events.Select(EventView.From)], events.Count == limit ? events[^1].Position : null));
    }

    private static ProblemHttpResult NoCustomer(string id) =>
        Problems.NotFound($"No customer has the id '{id}'. Customers are created by events carrying a userId; anonymous visitors join one when identified.");
}
