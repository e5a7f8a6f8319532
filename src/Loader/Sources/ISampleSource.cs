namespace Loader.Pipeline.Sources;

/// <summary>
/// Where the executor gets finished samples from. The production implementation is
/// <see cref="RecordSampleSource"/> (record shards + the CPU decoder); the seam lets the executor's ordering and
/// threading be tested on their own.
/// </summary>
internal interface ISampleSource : IDisposable
{
    long Count { get; }

    int ClassCount { get; }

    /// <summary>Bytes of one finished sample.</summary>
    int BytesPerSample { get; }

    /// <summary>Starts fetching a sample's bytes in the background (a hint for the read-ahead: returns at once,
    /// allocates nothing, may do nothing).</summary>
    void Prefetch(long sampleId);

    /// <summary>A worker for one thread: owns its decoder and scratch buffers.</summary>
    ISampleWorker CreateWorker();

    /// <summary>Where a sample comes from, in words (shard, record, file name): slow path, for log lines.</summary>
    string Describe(long sampleId);
}

/// <summary>Produces finished samples on one thread at a time.</summary>
internal interface ISampleWorker : IDisposable
{
    /// <summary>
    /// Writes sample <paramref name="sampleId"/>, augmented for <paramref name="epoch"/>, into
    /// <paramref name="destination"/> and returns its 0-based label. Throws <see cref="BadSampleException"/> when
    /// the sample itself is unusable (corrupt record, undecodable image); anything else is a failure of the loader.
    /// </summary>
    int Load(long sampleId, int epoch, Span<byte> destination, ref StageTimes times);
}

/// <summary>Stopwatch ticks one worker spent in each stage, and what its decoder did (spliced decoding).</summary>
internal struct StageTimes
{
    public long Read;
    public long Decode;
    public Augment.SpliceStatistics Splicing;
}
