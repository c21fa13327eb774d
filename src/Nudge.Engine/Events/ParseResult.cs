namespace Nudge.Engine.Events;

/// <summary>What is wrong with one field of one message.</summary>
/// <param name="Index">Position in the batch; null for a single-message call.</param>
/// <param name="Field">JSON path of the field inside the message, e.g. <c>properties.products[1].price</c>; empty for the whole message.</param>
/// <param name="Detail">What is wrong and what is expected.</param>
public sealed record FieldError(int? Index, string Field, string Detail)
{
    /// <summary>"batch[3].event: ..." — where and what, in one line.</summary>
    public override string ToString()
    {
        var where = Index is int i ? $"batch[{i}]" + (Field.Length > 0 ? "." + Field : "") : Field;
        return where.Length > 0 ? $"{where}: {Detail}" : Detail;
    }
}

/// <summary>The outcome of parsing a request body: valid events, and errors for the rest.</summary>
public sealed class ParseResult
{
    /// <summary>Messages that passed validation, in request order.</summary>
    public List<IncomingEvent> Events { get; } = [];

    /// <summary>One entry per problem found in a message that was rejected.</summary>
    public List<FieldError> Errors { get; } = [];

    /// <summary>A problem with the body as a whole (not JSON, too many events); nothing in it is accepted.</summary>
    public string? BodyError { get; set; }

    /// <summary>The write key sent in the body (<c>writeKey</c>), for senders that cannot set headers.</summary>
    public string? WriteKey { get; set; }
}
