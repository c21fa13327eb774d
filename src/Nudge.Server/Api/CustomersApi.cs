using Microsoft.AspNetCore.Http.HttpResults;
using Nudge.Engine.Customers;
using Nudge.Engine.Definitions;
using Nudge.Runtime.Definitions;
using Nudge.Runtime.Customers;
using Nudge.Storage;
using Orleans;

namespace Nudge.Server.Api;

public static class CustomersApi
{
    private const int RecentEvents = 20;
    private const int RecentJourneyActivity = 50;
    private const int MaxPage = 500;

    public static RouteGroupBuilder MapCustomersApi(this RouteGroupBuilder api)
    {
        var customers = api.MapGroup("/customers").WithTags("Customers");
        customers.MapGet("/{id}", GetCustomerAsync)
            .WithSummary("A customer's profile, identities, traits and recent events")
            .WithDescription("The id may be the user id, or an anonymous id or alias joined to the customer. `insights` holds the live stats, cart, interests, tags, lifecycle stage, RFM and segments; `journeys` the instances the customer is in and their journey history.");
        customers.MapPut("/{id}/tags/{tag}", SetTagAsync)
            .WithSummary("Sets a custom tag on a customer")
            .WithDescription("Body: `{\"value\": \"...\"}` (optional; \"true\" when absent). A custom tag stays until removed; names owned by a tag rule are refused.");
        customers.MapDelete("/{id}/tags/{tag}", RemoveTagAsync).WithSummary("Removes a custom tag from a customer");
        customers.MapGet("/{id}/events", GetEventsAsync)
            .WithSummary("A customer's events, newest first, paged")
            .WithDescription("Includes anonymous events from before the customer was identified. Pass the returned `next` as `before` for the next page.");
        return api;
    }

    private static async Task<Results<Ok<CustomerView>, ProblemHttpResult>> GetCustomerAsync(string id, INudgeStore store, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var profile = await store.GetCustomerAsync(id, cancellationToken);
        if (profile is null) return NoCustomer(id);
        var recent = await store.GetCustomerEventsAsync(profile.UserId, null, RecentEvents, cancellationToken);
        CustomerState state;
        try
        {
            state = CustomerStateCodec.Decode((await grains.GetGrain<ICustomerGrain>(profile.UserId).GetStateAsync()).Value);
        }
        catch (InvalidDataException e)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "The customer's state cannot be read.",
                $"{e.Message} Rebuild the customer from the event log: POST /api/quarantine/{profile.UserId}/release?rebuild=true.");
        }

        var changes = await store.CustomerChangesAsync(profile.UserId, RecentEvents, cancellationToken);
        var journeys = await store.CustomerJourneysAsync(profile.UserId, RecentJourneyActivity, cancellationToken);
        return TypedResults.Ok(CustomerView.From(profile, recent, InsightsView.From(state, changes), CustomerJourneysView.From(state, journeys)));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> SetTagAsync(
        string id, string tag, TagBody? body, INudgeStore store, IGrainFactory grains, DefinitionsRegistry registry, CustomerEvents events,
        CancellationToken cancellationToken)
    {
        if (!DefinitionParser.IsValidId(tag)) return Problems.BadRequest("Invalid tag name.", $"'{tag}' is not a tag name: use 1-64 letters, digits, - or _.");
        if (body?.Value is { Length: 0 or > 200 }) return Problems.BadRequest("Invalid tag value.", "value must be 1-200 characters.");
        return await ChangeTagAsync(id, tag, body?.Value ?? "true", store, grains, registry, events, cancellationToken);
    }

    private static Task<Results<NoContent, ProblemHttpResult>> RemoveTagAsync(
        string id, string tag, INudgeStore store, IGrainFactory grains, DefinitionsRegistry registry, CustomerEvents events,
        CancellationToken cancellationToken) =>
        ChangeTagAsync(id, tag, null, store, grains, registry, events, cancellationToken);

    private static async Task<Results<NoContent, ProblemHttpResult>> ChangeTagAsync(
        string id, string tag, string? value, INudgeStore store, IGrainFactory grains, DefinitionsRegistry registry, CustomerEvents events,
        CancellationToken cancellationToken)
    {
        var profile = await store.GetCustomerAsync(id, cancellationToken);
        if (profile is null) return NoCustomer(id);
        if (registry.Current.TagNames.Contains(tag))
            return Problems.Create(StatusCodes.Status409Conflict, "Tag owned by a rule.", $"'{tag}' is set by a tag rule; change the rule (PUT /api/tags/{tag}) instead of the customer.");

        // The change goes into the event log first (so a customer rebuilt from the log keeps it), then
        // straight to the customer so the next read shows it.
        await events.AppendAsync(profile.UserId, value is null ? TagEvents.TagRemoved : TagEvents.TagAdded,
            new Dictionary<string, object?> { ["tag"] = tag, ["value"] = value }, $"tag:{Guid.NewGuid():N}", cancellationToken);
        await grains.GetGrain<ICustomerGrain>(profile.UserId).SetTagAsync(tag, value);
        return TypedResults.NoContent();
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
