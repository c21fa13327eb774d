using Nudge.Engine.Events;
using Nudge.Runtime;
using Nudge.Runtime.Delivery;
using Nudge.Storage;

namespace Nudge.Server;

/// <summary>Everything <c>nudge serve</c> can be told; the defaults run on an embedded SQLite file.</summary>
public sealed record NudgeOptions
{
    /// <summary>Where and on what the engine stores its data.</summary>
    public StoreOptions Store { get; init; } = new();

    /// <summary>The address to listen on.</summary>
    public string Urls { get; init; } = "http://127.0.0.1:5080";

    /// <summary>How long a messageId is remembered for deduplication.</summary>
    public TimeSpan DedupeWindow { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Message and batch size limits.</summary>
    public IngestLimits Limits { get; init; } = IngestLimits.Segment;

    /// <summary>Events waiting for commit at most; beyond it ingestion answers 429 with Retry-After.</summary>
    public int IngestQueueEvents { get; init; } = 50_000;

    /// <summary>Bytes of event JSON waiting for commit at most; beyond it ingestion answers 429 with Retry-After.</summary>
    public long IngestQueueBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Ingestion requests read and parsed at once at most (each may hold a 500 KB body); beyond it, 429.</summary>
    public int MaxConcurrentIngestRequests { get; init; } = 256;

    /// <summary>Most events committed in one transaction (group commit across requests).</summary>
    public int MaxEventsPerCommit { get; init; } = 10_000;

    /// <summary>The write key to accept (else the stored one, or a new one printed on first start). From NUDGE_WRITE_KEY.</summary>
    public string? WriteKey { get; init; }

    /// <summary>The admin key to accept (else the stored one, or a new one printed on first start). From NUDGE_ADMIN_KEY.</summary>
    public string? AdminKey { get; init; }

    /// <summary>
    /// Parse and validate, then drop the events instead of committing them. Only for measuring the
    /// benchmark ceiling (the same server without storage); never acknowledges durably.
    /// </summary>
    public bool DiscardAfterParse { get; init; }

    /// <summary>The customer runtime: shop currency, dispatch and write-back settings.</summary>
    public RuntimeOptions Runtime { get; init; } = new();

    /// <summary>Channels, delivery policy and retries; only the in-app inbox is on unless channels are configured.</summary>
    public DeliverySettings Delivery { get; init; } = new();

    /// <summary>Send email to a mail catcher inside the engine and keep it for preview at /api/mail, instead of a real server.</summary>
    public bool CatchMail { get; init; }

    /// <summary>The clock. Tests pass a FakeTimeProvider.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where first-start messages (new keys, applied migrations) are written.</summary>
    public TextWriter Console { get; init; } = System.Console.Out;
}
