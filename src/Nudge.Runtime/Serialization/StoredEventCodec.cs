using Nudge.Engine.Events;
using Orleans;

namespace Nudge.Runtime.Serialization;

/// <summary>How a <see cref="StoredEvent"/> travels between silos: the engine type stays free of Orleans.</summary>
[GenerateSerializer]
internal struct StoredEventSurrogate
{
    [Id(0)] public long Position;
    [Id(1)] public string MessageId;
    [Id(2)] public EventType Type;
    [Id(3)] public string? Name;
    [Id(4)] public string? UserId;
    [Id(5)] public string? AnonymousId;
    [Id(6)] public DateTimeOffset Timestamp;
    [Id(7)] public DateTimeOffset ReceivedAt;
    [Id(8)] public string Json;
}

[RegisterConverter]
internal sealed class StoredEventConverter : IConverter<StoredEvent, StoredEventSurrogate>
{
    public StoredEvent ConvertFromSurrogate(in StoredEventSurrogate s) =>
        new(s.Position, s.MessageId, s.Type, s.Name, s.UserId, s.AnonymousId, s.Timestamp, s.ReceivedAt, s.Json);

    public StoredEventSurrogate ConvertToSurrogate(in StoredEvent e) => new()
    {
        Position = e.Position, MessageId = e.MessageId, Type = e.Type, Name = e.Name, UserId = e.UserId,
        AnonymousId = e.AnonymousId, Timestamp = e.Timestamp, ReceivedAt = e.ReceivedAt, Json = e.Json,
    };
}

/// <summary>Stored events are immutable records: a local grain call may share them instead of copying.</summary>
[RegisterCopier]
internal sealed class StoredEventCopier : Orleans.Serialization.Cloning.IDeepCopier<StoredEvent>
{
    public StoredEvent? DeepCopy(StoredEvent? input, Orleans.Serialization.Cloning.CopyContext context) => input;
}
