using System.Collections.Concurrent;

namespace Loader.Pipeline.Execution;

/// <summary>The bad samples a loader (CPU or GPU) has met: each is logged once and counted.</summary>
internal sealed class BadSampleRegistry(LoaderMetrics metrics, Action<string> log)
{
    private readonly ConcurrentDictionary<long, byte> _bad = new();

    public bool IsKnownBad(long sampleId) => !_bad.IsEmpty && _bad.ContainsKey(sampleId);

    public void Report(long sampleId, BadSampleException error)
    {
        if (_bad.TryAdd(sampleId, 0))
        {
            metrics.BadRecordFound();
            log($"loader: skipping bad sample {sampleId}: {error.Message}. It is replaced by a later sample of the epoch's order.");
        }
    }
}
