using System.Diagnostics;

namespace Loader.Pipeline;

/// <summary>
/// Live counters of a loader, safe to read from any thread. Busy times are summed over the worker threads, so
/// <c>DecodeTime / (Elapsed * Threads)</c> is the decode stage's share of the workers' time.
/// </summary>
public sealed class LoaderMetrics
{
    private long _images;
    private long _batches;
    private long _readTicks;
    private long _decodeTicks;
    private long _slotWaitTicks;
    private long _consumerWaitTicks;
    private long _activeTicks;
    private long _skipped;
    private long _badRecords;
    private long _queueDepthSum;
    private long _queueSamples;
    private int _queueDepth;
    private long _workerAllocatedBytes;
    private long _hardwareDecodes;
    private long _hybridDecodes;
    private long _cpuFallbackDecodes;
    private long _decodedSamples;
    private long _splicedSamples;
    private long _splicedEntropyBytes;
    private long _splicedSourceEntropyBytes;

    /// <summary>Images handed to the consumer.</summary>
    public long Images => Volatile.Read(ref _images);

    public long Batches => Volatile.Read(ref _batches);

    /// <summary>Time the consumer spent enumerating (from the start of each epoch to its last batch).</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, Volatile.Read(ref _activeTicks));

    public double ImagesPerSecond => Elapsed > TimeSpan.Zero ? Images / Elapsed.TotalSeconds : 0;

    /// <summary>Worker time spent reading records (I/O, CRC, protobuf parsing).</summary>
    public TimeSpan ReadTime => Stopwatch.GetElapsedTime(0, Volatile.Read(ref _readTicks));

    /// <summary>Worker time spent decoding and augmenting into the batch slots.</summary>
    public TimeSpan DecodeTime => Stopwatch.GetElapsedTime(0, Volatile.Read(ref _decodeTicks));

    /// <summary>Worker time spent waiting for a free batch slot (the consumer is the bottleneck).</summary>
    public TimeSpan SlotWaitTime => Stopwatch.GetElapsedTime(0, Volatile.Read(ref _slotWaitTicks));

    /// <summary>Consumer time spent waiting for the next batch (the workers are the bottleneck).</summary>
    public TimeSpan ConsumerWaitTime => Stopwatch.GetElapsedTime(0, Volatile.Read(ref _consumerWaitTicks));

    /// <summary>Finished batches waiting for the consumer right now.</summary>
    public int QueueDepth => Volatile.Read(ref _queueDepth);

    /// <summary>The queue depth seen by the consumer at each take, averaged.</summary>
    public double AverageQueueDepth
    {
        get
        {
            long samples = Volatile.Read(ref _queueSamples);
            return samples == 0 ? 0 : (double)Volatile.Read(ref _queueDepthSum) / samples;
        }
    }

    /// <summary>Bad samples skipped and replaced (a record bad in two epochs counts twice).</summary>
    public long SkippedSamples => Volatile.Read(ref _skipped);

    /// <summary>Distinct bad records found so far.</summary>
    public long BadRecords => Volatile.Read(ref _badRecords);

    /// <summary>Managed bytes the worker threads allocated (the per-sample path allocates none).</summary>
    public long WorkerAllocatedBytes => Volatile.Read(ref _workerAllocatedBytes);

    /// <summary>GPU loaders: samples decoded by nvJPEG's hardware backend, its hybrid backend, and the CPU fallback.</summary>
    public (long Hardware, long Hybrid, long CpuFallback) GpuDecodes =>
        (Volatile.Read(ref _hardwareDecodes), Volatile.Read(ref _hybridDecodes), Volatile.Read(ref _cpuFallbackDecodes));

    /// <summary>
    /// Samples decoded (CPU loaders: by libjpeg-turbo; GPU loaders: given to nvJPEG), how many took the spliced path (a
    /// sub-JPEG of the restart intervals the crop needs: records written with make-records <c>--restart-interval</c>),
    /// and the fraction of those samples' entropy-coded bytes the decoder was given.
    /// </summary>
    public Augment.SpliceStatistics Splicing => new(Volatile.Read(ref _decodedSamples), Volatile.Read(ref _splicedSamples),
                                                    Volatile.Read(ref _splicedEntropyBytes), Volatile.Read(ref _splicedSourceEntropyBytes));

    /// <summary>GPU loaders: whether nvJPEG's hardware decoder (A100/H100/H200) is in use.</summary>
    public bool UsesHardwareDecoder { get; internal set; }

    /// <summary>GPU loaders: why the hardware decoder is not in use, if it is not.</summary>
    public string? HardwareUnavailableReason { get; internal set; }

    /// <summary>Zeroes every counter (between warm-up and a measurement, say).</summary>
    public void Reset()
    {
        Volatile.Write(ref _images, 0);
        Volatile.Write(ref _batches, 0);
        Volatile.Write(ref _readTicks, 0);
        Volatile.Write(ref _decodeTicks, 0);
        Volatile.Write(ref _slotWaitTicks, 0);
        Volatile.Write(ref _consumerWaitTicks, 0);
        Volatile.Write(ref _activeTicks, 0);
        Volatile.Write(ref _skipped, 0);
        Volatile.Write(ref _queueDepthSum, 0);
        Volatile.Write(ref _queueSamples, 0);
        Volatile.Write(ref _workerAllocatedBytes, 0);
        Volatile.Write(ref _decodedSamples, 0);
        Volatile.Write(ref _splicedSamples, 0);
        Volatile.Write(ref _splicedEntropyBytes, 0);
        Volatile.Write(ref _splicedSourceEntropyBytes, 0);
    }

    /// <summary>Adds one worker's decoder statistics since its last report (a few atomic adds per sample, no lock).</summary>
    internal void AddSplicing(in Augment.SpliceStatistics delta)
    {
        Interlocked.Add(ref _decodedSamples, delta.Samples);
        if (delta.SplicedSamples != 0)
        {
            Interlocked.Add(ref _splicedSamples, delta.SplicedSamples);
            Interlocked.Add(ref _splicedEntropyBytes, delta.SplicedEntropyBytes);
            Interlocked.Add(ref _splicedSourceEntropyBytes, delta.SplicedSourceEntropyBytes);
        }
    }

    internal void AddDecodes(int hardware, int hybrid, int cpuFallback)
    {
        Interlocked.Add(ref _hardwareDecodes, hardware);
        Interlocked.Add(ref _hybridDecodes, hybrid);
        Interlocked.Add(ref _cpuFallbackDecodes, cpuFallback);
    }

    internal void AddWorkerAllocations(long bytes) => Interlocked.Add(ref _workerAllocatedBytes, bytes);

    internal void AddStageTimes(long readTicks, long decodeTicks)
    {
        Interlocked.Add(ref _readTicks, readTicks);
        Interlocked.Add(ref _decodeTicks, decodeTicks);
    }

    internal void AddSlotWait(long ticks) => Interlocked.Add(ref _slotWaitTicks, ticks);

    internal void AddConsumerWait(long ticks) => Interlocked.Add(ref _consumerWaitTicks, ticks);

    internal void AddActive(long ticks) => Interlocked.Add(ref _activeTicks, ticks);

    internal void BatchTaken(int images, int queueDepthAfter)
    {
        Interlocked.Add(ref _images, images);
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _queueDepthSum, queueDepthAfter + 1);
        Interlocked.Increment(ref _queueSamples);
        Interlocked.Decrement(ref _queueDepth);
    }

    internal void BatchQueued() => Interlocked.Increment(ref _queueDepth);

    internal void QueueCleared() => Volatile.Write(ref _queueDepth, 0);

    internal void SampleSkipped() => Interlocked.Increment(ref _skipped);

    internal void BadRecordFound() => Interlocked.Increment(ref _badRecords);
}
