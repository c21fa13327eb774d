using System.Text.Json;
using Nudge.Engine.Customers;
using Nudge.Engine.Definitions;
using Nudge.Engine.Events;
using Nudge.Engine.Journeys;
using Nudge.Runtime.Definitions;
using Nudge.Runtime.Journeys;
using Nudge.Storage;
using Orleans;
using Orleans.Concurrency;

namespace Nudge.Runtime.Customers;

/// <summary>
/// The live picture of one customer. Events arrive from the dispatcher in log order; each is applied
/// once (its position is checked against the last applied). After each call the derived parts are
/// re-evaluated, the customer's journeys run, what their steps do is carried out, and the encoded
/// state goes to the write-behind <see cref="StateWriter"/>. Between calls the grain keeps only that
/// encoded state: a few hundred bytes without references, where the decoded state is a graph of
/// objects that every garbage collection would trace while the customer is active.
/// </summary>
public sealed class CustomerGrain(INudgeStore store, StateWriter writer, DefinitionsRegistry definitions, JourneyRegistry journeys, JourneyEffects effects, TimeProvider time)
    : Grain, ICustomerGrain, IIncomingGrainCallFilter
{
    // Decoded only while a call runs, and dropped once the call has handed its state on.
    private CustomerState _state = null!;
    // The state as last handed to the writer (or loaded): what the next call decodes.
    private byte[]? _handedOn;
    private bool _handedOnInThisCall;
    // Set when the stored state cannot be read (written by another version, damaged): every call
    // fails with it, so the dispatcher sets the customer aside, until a catch-up rebuilds from the log.
    private InvalidDataException? _unreadable;

    private string Id => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // State not yet flushed is newer than the stored row.
        var (found, pending) = writer.Pending(Id);
        var bytes = found ? pending : await store.LoadStateAsync(Id, cancellationToken);
        try
        {
            // Decoded now, so an unreadable state is known before the first call.
            (_state, _handedOn) = (bytes is null ? new CustomerState(Id) : CustomerStateCodec.Decode(bytes), bytes);
        }
        catch (InvalidDataException e)
        {
            (_state, _unreadable) = (new CustomerState(Id), new InvalidDataException($"The stored state of customer '{Id}' cannot be read: {e.Message}", e));
        }
    }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (_unreadable is { } unreadable && context.MethodName != nameof(CatchUpAsync)) throw unreadable;
        // A read of the encoded state needs no decoding.
        if (_state is null && context.MethodName != nameof(GetStateAsync)) _state = CustomerStateCodec.Decode(_handedOn);
        _handedOnInThisCall = false;
        try
        {
            await context.Invoke();
        }
        catch
        {
            // The state may hold part of the failed call, or be ahead of the effects it carried out: the
            // next call starts from the last state handed on, and a retry runs the same steps with the same keys.
            _state = _handedOn is null ? new CustomerState(Id) : null!;
            throw;
        }

        // A call that changed the state without handing it on (an offer that started nothing) keeps it decoded.
        if (_handedOnInThisCall) _state = null!;
    }

    public Task ApplyAsync(Immutable<StoredEvent[]> events) => ApplyEventsAsync(events.Value);

    public async Task CatchUpAsync(long upTo, bool rebuild)
    {
        if (rebuild)
        {
            // Everything the log holds comes back; journey instances and history do not (they are not in it).
            _unreadable = null;
            _state = new CustomerState(Id);
            await RebuildAsync(upTo, definitions.Current, definitions.Fold);
            await EvaluateAsync(definitions.Current, time.GetUtcNow());
            return;
        }

        if (_unreadable is { } unreadable) throw unreadable;
        var log = await store.ReadCustomerLogAsync(Id, upTo, CancellationToken.None);
        await ApplyAsync(log.Where(e => e.Position > _state.Position).ToArray().AsImmutable());
    }

    private async Task ApplyEventsAsync(StoredEvent[] events)
    {
        var defs = definitions.Current;
        var fold = definitions.Fold;
        // A customer with nothing applied yet has no counters to rebuild.
        if (_state.Position == 0) _state.TrackersSignature = defs.TrackersSignature;
        var customBefore = events.Any(e => e.Name is TagEvents.TagAdded or TagEvents.TagRemoved) ? CustomTags() : null;
        var now = time.GetUtcNow();
        var runner = journeys.Runner;
        var output = new JourneyOutput();
        foreach (var e in events)
        {
            if (e.Position <= _state.Position) continue;
            if (NeedsRebuild(e, defs)) await RebuildAsync(e.Position, defs, fold);
            else CustomerFold.Apply(_state, e, fold);
            var name = e.Type == EventType.Track ? e.Name : null;
            if (!runner.Cares(_state, name)) continue;
            using var doc = JsonDocument.Parse(e.Json);
            var properties = doc.RootElement.TryGetProperty("properties", out var p) ? p : default;
            runner.OnEvent(_state, new JourneyEvent(name, properties, e.Timestamp, e.Position), now, output);
        }

        List<CustomerChange> changes = [];
        if (customBefore is not null) CustomTagChanges(customBefore, now, changes);
        await EvaluateAsync(defs, now, changes, output);
    }

    private Dictionary<string, string> CustomTags() =>
        _state.Tags.Where(t => t.Value.Custom).ToDictionary(t => t.Key, t => t.Value.Value, StringComparer.Ordinal);

    /// <summary>Custom tags come from Tag Added/Removed events in the log; what they changed is recorded like rule tags.</summary>
    private void CustomTagChanges(Dictionary<string, string> before, DateTimeOffset now, List<CustomerChange> changes)
    {
        foreach (var (name, tag) in _state.Tags)
        {
            if (!tag.Custom) continue;
            if (!before.TryGetValue(name, out var old)) changes.Add(new CustomerChange(ChangeKinds.TagAdded, name, tag.Value, null, tag.Since));
            else if (old != tag.Value) changes.Add(new CustomerChange(ChangeKinds.TagChanged, name, tag.Value, old, tag.Since));
        }

        foreach (var (name, old) in before)
        {
            if (!_state.Tags.TryGetValue(name, out var tag) || !tag.Custom) changes.Add(new CustomerChange(ChangeKinds.TagRemoved, name, null, old, now));
        }
    }

    public async Task CheckAsync(DateTimeOffset due)
    {
        // Every boundary that came due since is evaluated at its own time, so each change is stamped
        // exactly when it happened even when noticed later (after downtime, or a jump in virtual time).
        List<CustomerChange> changes = [];
        var defs = definitions.Current;
        var now = time.GetUtcNow();
        var at = due;
        for (var step = 0; at < now && step < MaxCatchUpSteps; step++)
        {
            CustomerEvaluator.Evaluate(_state, defs, at, changes);
            if (_state.NextCheckAt is not { } next || next <= at) break;
            at = next;
        }

        await EvaluateAsync(defs, now, changes);
    }

    // Bounds the catch-up after a very long pause; what remains is evaluated at the current time.
    private const int MaxCatchUpSteps = 1000;

    public async Task RefreshAsync()
    {
        var defs = definitions.Current;
        if (_state.Position > 0 && _state.TrackersSignature != defs.TrackersSignature) await RebuildAsync(_state.Position, defs, definitions.Fold);
        await EvaluateAsync(defs, time.GetUtcNow());
    }

    public Task<Immutable<byte[]>> GetStateAsync() => Task.FromResult((_state is null ? _handedOn! : CustomerStateCodec.Encode(_state)).AsImmutable());

    public async Task<bool> SetTagAsync(string name, string? value)
    {
        var defs = definitions.Current;
        if (defs.Tags.Any(t => t.Name == name)) return false;
        var now = time.GetUtcNow();
        List<CustomerChange> changes = [];
        var had = _state.Tags.TryGetValue(name, out var current);
        if (value is null && had)
        {
            _state.Tags.Remove(name);
            changes.Add(new CustomerChange(ChangeKinds.TagRemoved, name, null, current.Value, now));
        }
        else if (value is not null && (!had || current.Value != value))
        {
            _state.Tags[name] = new TagValue(value, now, Custom: true);
            changes.Add(new CustomerChange(had ? ChangeKinds.TagChanged : ChangeKinds.TagAdded, name, value, had ? current.Value : null, now));
        }

        // Segments and journeys may test the tag.
        await EvaluateAsync(defs, now, changes);
        return true;
    }

    public async Task EnterScheduledAsync(string journeyId, DateTimeOffset occurrence)
    {
        var output = new JourneyOutput();
        var now = time.GetUtcNow();
        journeys.Runner.OnSchedule(_state, journeyId, occurrence, now, output);
        if (output.Activity.Count > 0) await EvaluateAsync(definitions.Current, now, null, output);
    }

    public async Task OfferAsync(string offerJson, DateTimeOffset? lastViewed)
    {
        if (JsonSerializer.Deserialize(offerJson, RuntimeJson.Default.CatalogOffer) is not { } offer) return;
        var output = new JourneyOutput();
        var now = time.GetUtcNow();
        journeys.Runner.OnCatalog(_state, offer, lastViewed, now, output);
        if (output.Activity.Count > 0) await EvaluateAsync(definitions.Current, now, null, output);
    }

    public Task<string> RetireAsync(string mergedInto)
    {
        var entries = JsonSerializer.Serialize(_state.JourneyEntries.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal), RuntimeJson.Default.DictionaryStringJourneyEntry);
        var now = time.GetUtcNow();
        List<CustomerChange> changes = [.. _state.Segments.Select(m => new CustomerChange(ChangeKinds.SegmentLeft, m.Key, null, null, now))];
        var output = new JourneyOutput();
        JourneyRunner.EndAll(_state, EndReasons.Merged, now, output);
        writer.Enqueue(new CustomerStateWrite(Id, _state.Position, null, [], changes, Retired: true, Activity: output.Activity));
        (_state, _handedOn) = (new CustomerState(Id), null);
        this.DeactivateOnIdle();
        return Task.FromResult(entries);
    }

    /// <summary>
    /// An id this customer has not folded in (an anonymous id or previous user id joined now) means
    /// earlier events of that id belong here too; so do events before a new segment condition existed.
    /// </summary>
    private bool NeedsRebuild(StoredEvent e, DefinitionSet defs)
    {
        if (_state.TrackersSignature != defs.TrackersSignature) return true;
        if (e.AnonymousId is { } anonymous && !_state.LinkedIds.Contains(anonymous)) return true;
        if (e.UserId is { } user && user != Id && !_state.LinkedIds.Contains(user)) return true;
        if (e.Type != EventType.Alias) return false;
        using var doc = JsonDocument.Parse(e.Json);
        return CustomerFold.PreviousId(doc.RootElement) is { } previous && previous != Id && !_state.LinkedIds.Contains(previous);
    }

    /// <summary>Folds the customer's whole log up to <paramref name="upTo"/> afresh: exactly what a recomputation gives.</summary>
    private async Task RebuildAsync(long upTo, DefinitionSet defs, FoldSettings fold)
    {
        var log = await store.ReadCustomerLogAsync(Id, upTo, CancellationToken.None);
        var fresh = new CustomerState(Id) { TrackersSignature = defs.TrackersSignature };
        foreach (var e in log) CustomerFold.Apply(fresh, e, fold);
        fresh.Position = Math.Max(upTo, _state.Position);
        // What the definitions made of the customer carries over, so the next evaluation reports real
        // changes only. Custom tags are not carried: the log has them.
        foreach (var (name, tag) in _state.Tags)
            if (!tag.Custom) fresh.Tags[name] = tag;
        foreach (var (segment, since) in _state.Segments) fresh.Segments[segment] = since;
        (fresh.Stage, fresh.Rfm) = (_state.Stage, _state.Rfm);
        // Journeys are not in the log: instances and their history carry over as they are.
        fresh.JourneysForUpdate.AddRange(_state.Journeys);
        foreach (var (journey, entry) in _state.JourneyEntries) fresh.JourneyEntries[journey] = entry;
        fresh.InstancesStarted = _state.InstancesStarted;
        var before = _state.LinkedIds;
        _state = fresh;
        // A previous user id that had its own customer is merged here: that customer retires.
        foreach (var merged in fresh.LinkedIds.Where(id => !before.Contains(id) && id != Id))
        {
            if (await store.LoadStateAsync(merged, CancellationToken.None) is not null || writer.Pending(merged).Found)
            {
                // The merged customer's journey history carries over: a once-only journey stays done.
                var entries = JsonSerializer.Deserialize(await GrainFactory.GetGrain<ICustomerGrain>(merged).RetireAsync(Id), RuntimeJson.Default.DictionaryStringJourneyEntry) ?? [];
                foreach (var (journey, theirs) in entries)
                {
                    _state.JourneyEntries[journey] = _state.JourneyEntries.TryGetValue(journey, out var ours)
                        ? new JourneyEntry(Max(ours.LastEnteredAt, theirs.LastEnteredAt), ours.Entries + theirs.Entries, Max(ours.LastOccurrence, theirs.LastOccurrence))
                        : theirs;
                }
            }
        }
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : Max(a.Value, b.Value);

    private async Task EvaluateAsync(DefinitionSet defs, DateTimeOffset now, List<CustomerChange>? changes = null, JourneyOutput? output = null)
    {
        changes ??= [];
        output ??= new JourneyOutput();
        _state.TrackersSignature = defs.TrackersSignature;
        CustomerEvaluator.Evaluate(_state, defs, now, changes);
        var runner = journeys.Runner;
        runner.OnChanges(_state, changes, now, output);
        runner.Advance(_state, now, output);
        // One durable timer per customer: the earliest of what segments and journeys wait for.
        if (runner.NextWake(_state, now) is { } wake && (_state.NextCheckAt is null || wake < _state.NextCheckAt)) _state.NextCheckAt = wake;
        // Should this fail, the call's state is dropped (see Invoke) and a retry runs the same steps again.
        if (output.Effects.Count > 0) await effects.CarryOutAsync(Id, output.Effects, CancellationToken.None);

        (_handedOn, _handedOnInThisCall) = (CustomerStateCodec.Encode(_state), true);
        writer.Enqueue(new CustomerStateWrite(Id, _state.Position, _state.NextCheckAt, _handedOn, changes, Activity: output.Activity),
            _state.TakeTouches());
        // Definitions installed while this call ran: the sweep they started may have read this
        // customer before the state above was handed on, so it is evaluated against them here.
        if (!ReferenceEquals(definitions.Current, defs)) await RefreshAsync();
    }
}
