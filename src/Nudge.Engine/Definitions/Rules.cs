using Nudge.Engine.Segments;

namespace Nudge.Engine.Definitions;

/// <summary>The four tag kinds of the seeds, plus tags set by hand.</summary>
public static class TagKinds
{
    /// <summary>Valid kinds.</summary>
    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { "basic", "behaviour", "transaction", "preference", "custom" };
}

/// <summary>
/// A tag rule: the customer carries the tag while <paramref name="When"/> holds, with the value
/// <paramref name="Value"/> gives (or "true"); a value source that yields nothing removes the tag.
/// </summary>
/// <param name="Name">Tag name.</param>
/// <param name="Kind">basic, behaviour, transaction or preference.</param>
/// <param name="Description">What it means, for people.</param>
/// <param name="When">Condition; null means always.</param>
/// <param name="Value">Where the value comes from; null for yes/no tags.</param>
public sealed record TagRule(string Name, string Kind, string? Description, Condition? When, TagValueSource? Value);

/// <summary>A lifecycle stage: the first stage (in definition order) whose condition holds is the customer's stage.</summary>
/// <param name="Name">Stage name.</param>
/// <param name="Description">What it means.</param>
/// <param name="When">Condition.</param>
public sealed record StageRule(string Name, string? Description, Condition When);

/// <summary>A segment: the customers for whom a condition holds, kept live.</summary>
/// <param name="Id">Stable id used in URLs and events (letters, digits, - and _).</param>
/// <param name="Name">Display name.</param>
/// <param name="Description">What it is for.</param>
/// <param name="When">Membership condition.</param>
public sealed record SegmentDefinition(string Id, string Name, string? Description, Condition When);
