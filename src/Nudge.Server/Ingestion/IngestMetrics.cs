using System.Diagnostics.Metrics;
using Nudge.Engine.Events;

namespace Nudge.Server.Ingestion;

/// <summary>Ingestion metrics, exported at /metrics in Prometheus format.</summary>
public sealed class IngestMetrics
{
    /// <summary>The meter name, for exporters.</summary>
    public const string MeterName = "Nudge.Ingest";

    private readonly Counter<long> _events;
    private readonly Counter<long> _commits;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _ackLatency;

    public IngestMetrics(IMeterFactory meters, IngestQueue queue)
    {
        var meter = meters.Create(MeterName);
        _events = meter.CreateCounter<long>("nudge.ingest.events", "{event}", "Events received, by outcome: stored, duplicate, rejected.");
        _commits = meter.CreateCounter<long>("nudge.ingest.commits", "{commit}", "Transactions committed to the event log.");
        _batchSize = meter.CreateHistogram<int>("nudge.ingest.batch.size", "{event}", "Messages per ingestion request.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 10, 50, 100, 250, 500, 1000, 2500] });
        _ackLatency = meter.CreateHistogram<double>("nudge.ingest.ack.duration", "s", "From request start to acknowledgement (after durable commit).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
        meter.CreateObservableGauge("nudge.ingest.queue.depth", () => queue.QueuedEvents, "{event}", "Events accepted and waiting for commit.");
    }

    public void Received(int messages, int rejected)
    {
        _batchSize.Record(messages);
        if (rejected > 0) _events.Add(rejected, new KeyValuePair<string, object?>("outcome", "rejected"));
    }

    public void Committed(AppendResult result)
    {
        _commits.Add(1);
        _events.Add(result.Stored, new KeyValuePair<string, object?>("outcome", "stored"));
        if (result.Duplicates > 0) _events.Add(result.Duplicates, new KeyValuePair<string, object?>("outcome", "duplicate"));
    }

    public void Acknowledged(TimeSpan elapsed) => _ackLatency.Record(elapsed.TotalSeconds);
}
