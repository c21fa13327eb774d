using Nudge.Engine.Definitions;
using Nudge.Engine.Rfm;
using Nudge.Engine.Segments;

namespace Nudge.Engine.Customers;

/// <summary>
/// Derives what the definitions make of a customer at a point in time — RFM, lifecycle stage, rule
/// tags, segment memberships — in that order, since later ones may read earlier ones. Reports every
/// change, and sets <see cref="CustomerState.NextCheckAt"/> to when time alone could change any of them.
/// </summary>
public static class CustomerEvaluator
{
    /// <summary>Evaluates at <paramref name="now"/>, updating the state and appending changes to <paramref name="changes"/>.</summary>
    public static void Evaluate(CustomerState s, DefinitionSet definitions, DateTimeOffset now, List<CustomerChange> changes)
    {
        var ev = new Evaluation(now);
        EvaluateRfm(s, definitions, ev, changes);
        EvaluateStage(s, definitions, ev, changes);
        EvaluateTags(s, definitions, ev, changes);
        EvaluateSegments(s, definitions, ev, changes);
        s.NextCheckAt = ev.NextChange;
        s.DefinitionsVersion = definitions.Version;
    }

    /// <summary>Whether the customer is in a segment by a fresh evaluation, without touching the state.</summary>
    public static bool IsMember(CustomerState s, SegmentDefinition segment, DateTimeOffset now) => segment.When.Evaluate(s, new Evaluation(now));

    private static void EvaluateRfm(CustomerState s, DefinitionSet d, Evaluation ev, List<CustomerChange> changes)
    {
        var orders = s.Stats.Orders;
        RfmResult? rfm = null;
        if (orders is { Count: > 0, LastAt: { } last })
        {
            var days = (ev.Now - last).TotalDays;
            // Bands and scores step as days pass: just after each inclusive bound.
            foreach (var bound in d.Rfm.RecencyDays) ev.ChangesAt(last.AddDays(bound).AddMilliseconds(1));
            foreach (var bound in d.Quintiles.RecencyDays) ev.ChangesAt(last.AddDays(bound).AddMilliseconds(1));
            var (r, f, m) = (d.Quintiles.RecencyScore(days), d.Quintiles.FrequencyScore(orders.Count), d.Quintiles.MonetaryScore((double)orders.Revenue));
            rfm = new RfmResult(d.Rfm.RecencyBand(days), d.Rfm.FrequencyBand(orders.Count), d.Rfm.MonetaryBand(orders.Revenue), r, f, m, RfmSegments.Of(r, f, m));
            // Unchanged: keep the instance the customer already holds.
            if (rfm == s.Rfm) rfm = s.Rfm;
        }

        if (s.Rfm?.Segment != rfm?.Segment)
            changes.Add(new CustomerChange(ChangeKinds.RfmChanged, "rfm", rfm?.Segment, s.Rfm?.Segment, ev.Now));
        s.Rfm = rfm;
    }

    private static void EvaluateStage(CustomerState s, DefinitionSet d, Evaluation ev, List<CustomerChange> changes)
    {
        string? stage = null;
        // Index loops over the definition lists: a foreach over an IReadOnlyList allocates an enumerator,
        // and this runs after every change of every customer.
        for (var i = 0; i < d.Stages.Count; i++)
        {
            var rule = d.Stages[i];
            // Later stages are still evaluated so that their time boundaries are known.
            if (rule.When.Evaluate(s, ev) && stage is null) stage = rule.Name;
        }

        var previous = s.Stage?.Name;
        if (previous == stage) return;
        changes.Add(new CustomerChange(ChangeKinds.StageChanged, "stage", stage, previous, ev.Now));
        s.Stage = stage is null ? null : (stage, ev.Now);
    }

    private static void EvaluateTags(CustomerState s, DefinitionSet d, Evaluation ev, List<CustomerChange> changes)
    {
        for (var i = 0; i < d.Tags.Count; i++)
        {
            var rule = d.Tags[i];
            var holds = rule.When?.Evaluate(s, ev) ?? true;
            var value = holds ? rule.Value is null ? "true" : rule.Value.Evaluate(s, ev) : null;
            s.Tags.TryGetValue(rule.Name, out var current);
            var had = s.Tags.ContainsKey(rule.Name);
            if (had && current.Custom) continue;
            if (value is null)
            {
                if (!had) continue;
                s.Tags.Remove(rule.Name);
                changes.Add(new CustomerChange(ChangeKinds.TagRemoved, rule.Name, null, current.Value, ev.Now));
            }
            else if (!had || current.Value != value)
            {
                s.Tags[rule.Name] = new TagValue(value, ev.Now, false);
                changes.Add(new CustomerChange(had ? ChangeKinds.TagChanged : ChangeKinds.TagAdded, rule.Name, value, had ? current.Value : null, ev.Now));
            }
        }

        // A rule that no longer exists takes its tags with it; hand-set tags stay.
        var orphaned = false;
        foreach (var (name, tag) in s.Tags) orphaned |= !tag.Custom && !d.TagNames.Contains(name);
        if (!orphaned) return;
        foreach (var (name, tag) in s.Tags.Where(t => !t.Value.Custom && !d.TagNames.Contains(t.Key)).ToList())
        {
            s.Tags.Remove(name);
            changes.Add(new CustomerChange(ChangeKinds.TagRemoved, name, null, tag.Value, ev.Now));
        }
    }

    private static void EvaluateSegments(CustomerState s, DefinitionSet d, Evaluation ev, List<CustomerChange> changes)
    {
        for (var i = 0; i < d.Segments.Count; i++)
        {
            var segment = d.Segments[i];
            var member = segment.When.Evaluate(s, ev);
            var was = s.Segments.ContainsKey(segment.Id);
            if (member == was) continue;
            if (member) s.Segments[segment.Id] = ev.Now;
            else s.Segments.Remove(segment.Id);
            changes.Add(new CustomerChange(member ? ChangeKinds.SegmentEntered : ChangeKinds.SegmentLeft, segment.Id, null, null, ev.Now));
        }

        var stale = false;
        foreach (var (id, _) in s.Segments) stale |= !d.SegmentIds.Contains(id);
        if (!stale) return;
        foreach (var gone in s.Segments.Keys.Where(id => !d.SegmentIds.Contains(id)).ToList())
        {
            s.Segments.Remove(gone);
            changes.Add(new CustomerChange(ChangeKinds.SegmentLeft, gone, null, null, ev.Now));
        }
    }
}
