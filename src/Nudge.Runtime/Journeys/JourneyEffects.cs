using Microsoft.Extensions.DependencyInjection;
using Nudge.Engine.Customers;
using Nudge.Engine.Journeys;
using Nudge.Runtime.Customers;
using Nudge.Runtime.Delivery;
using Nudge.Storage;

namespace Nudge.Runtime.Journeys;

/// <summary>
/// Carries out what journey steps do. Every effect is keyed by (journey, version, instance, step), and
/// every write here is idempotent on that key, so carrying out the same effect again after a crash
/// changes nothing: a step sends at most once. The grain carries effects out before it hands on the
/// state that records them, so a crash in between repeats them rather than losing them: at least once.
/// </summary>
public sealed class JourneyEffects(INudgeStore store, IntentWriter intents, CustomerEvents events, IServiceProvider services, TimeProvider time)
{
    /// <summary>Carries out effects in order.</summary>
    public async Task CarryOutAsync(string customerId, IReadOnlyList<JourneyEffect> effects, CancellationToken cancellationToken)
    {
        foreach (var effect in effects)
        {
            switch (effect)
            {
                case SendEffect send:
                    await intents.EnqueueAsync(send.Intent);
                    break;
                case TagEffect tag:
                    await events.AppendAsync(customerId, tag.Value is null ? TagEvents.TagRemoved : TagEvents.TagAdded,
                        new Dictionary<string, object?> { ["tag"] = tag.Tag, ["value"] = tag.Value }, tag.Key, cancellationToken);
                    break;
                case TraitsEffect traits:
                    await events.IdentifyAsync(customerId, traits.TraitsJson, traits.Key, cancellationToken);
                    break;
                case CouponEffect coupon:
                    var coupons = services.GetRequiredService<Coupons>();
                    // A campaign removed since the journey was saved issues nothing; delivery reports the same for sends.
                    if (coupons.Find(coupon.Campaign) is { } campaign) await coupons.IssueAsync(campaign, customerId, null, coupon.Key, cancellationToken);
                    break;
                case TaskEffect task:
                    await store.AddStaffTaskAsync(new StaffTask(0, task.Key, customerId, task.JourneyId, task.StepId, task.Title, task.Note, task.Queue, task.TriggerJson,
                        time.GetUtcNow()), cancellationToken);
                    break;
            }
        }
    }
}
