using System.Collections;
using Loader.Augment;
using Loader.Pipeline.Execution;
using Loader.Pipeline.Gpu;
using Loader.Pipeline.Order;
using Loader.Pipeline.Sources;

namespace Loader.Pipeline;

/// <summary>
/// Record shards in, finished batches out: ordered, sharded over ranks, resumable in O(1), decoded and augmented on
/// the CPU into host memory (<see cref="HostBatch"/>) or by nvJPEG and CUDA into GPU memory
/// (<see cref="DeviceBatch"/>), as <see cref="LoaderOptions.Device"/> says. Create one with <see cref="Create(LoaderOptions, LoaderState?)"/>;
/// the implementation behind it is chosen from the options (as <c>Channel.CreateBounded</c> does).
/// </summary>
/// <remarks>
/// Enumerating the loader yields the remaining batches of <see cref="State"/>'s epoch; the next enumeration is the
/// next epoch. Every batch must be disposed (there are <see cref="LoaderOptions.PrefetchDepth"/> + 2 slots). Bad
/// samples are skipped, reported once (shard, record, file, reason) and replaced by a later sample of the epoch's
/// order, so every batch is full and every rank takes the same number of steps; <see cref="LoaderOptions.Strict"/>
/// stops at the first instead.
/// </remarks>
/// <example>
/// <code>
/// using DataLoader loader = DataLoader.Create(new LoaderOptions { DataDirectory = "records/train", BatchSize = 256 },
///                                             resumeFrom: checkpoint?.LoaderState);
/// foreach (HostBatch batch in loader)          // DeviceBatch with Device = LoaderDevice.Cuda(0)
/// {
///     using (batch) { Train(batch.ImagesPointer, batch.Shape, batch.Labels); }
///     if (++step % 1000 == 0) SaveCheckpoint(loader.State);   // (Seed, Epoch, Position)
/// }
/// </code>
/// </example>
public abstract class DataLoader : IEnumerable<Batch>, IAsyncEnumerable<Batch>, IDisposable
{
    private protected DataLoader(LoaderOptions options, long datasetSize, int classCount, LoaderState start)
    {
        Context = new LoaderContext(options, datasetSize, Metrics,
                                    new BadSamplePolicy(Metrics, options.LogSink, options.Strict));
        Cursor = new LoaderCursor(this, start, Metrics, state => StartRun(Context.PlanEpoch(state.Epoch, state.Position)));
        Context.Cursor = Cursor;
        ClassCount = classCount;
        EpochPlan full = Context.PlanEpoch(start.Epoch, 0);
        SamplesPerEpoch = full.SamplesPerRank;
        BatchesPerEpoch = full.BatchCount;
    }

    /// <summary>Where the loader stands: after the consumer has taken batch k of an epoch, the position counts the
    /// samples of batches 0..k (of all ranks); after the last batch it is (Epoch + 1, 0). The same numbers on every
    /// rank and for either device: any rank's state resumes the whole job, on any world size.</summary>
    public LoaderState State => Cursor.State;

    /// <summary>Samples this rank delivers in a whole epoch.</summary>
    public long SamplesPerEpoch { get; }

    /// <summary>Batches per epoch, the same on every rank.</summary>
    public int BatchesPerEpoch { get; }

    public int ClassCount { get; }

    /// <summary>Samples in the data set.</summary>
    public long DatasetSize => Context.DatasetSize;

    public OutputSpec Output => Context.Options.Output;

    /// <summary>Where the batches are: <see cref="LoaderDevice.Cpu"/> (<see cref="HostBatch"/>) or a CUDA device
    /// (<see cref="DeviceBatch"/>).</summary>
    public LoaderDevice Device => Context.Options.Device;

    public LoaderMetrics Metrics { get; } = new();

    /// <summary>Bytes of image memory held by the batch slots (allocated once).</summary>
    public abstract long SlotBytes { get; }

    internal LoaderContext Context { get; }

    internal LoaderCursor Cursor { get; }

    /// <summary>
    /// Opens the records in <see cref="LoaderOptions.DataDirectory"/> for <see cref="LoaderOptions.Device"/>. With
    /// <paramref name="resumeFrom"/>, the first enumeration continues that epoch from that position, yielding exactly
    /// the batches an uninterrupted run would have; the world size may differ from the one that saved the state.
    /// </summary>
    public static DataLoader Create(LoaderOptions options, LoaderState? resumeFrom = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Device.IsCuda)
        {
            return GpuDataLoader.Open(options, resumeFrom);
        }

        var dataset = options.OpenRecords();
        try
        {
            return Create(options, new RecordSampleSource(dataset, options), resumeFrom);
        }
        catch
        {
            dataset.Dispose();
            throw;
        }
    }

    /// <summary>The CPU executor over any sample source: the seam the ordering and threading tests use.</summary>
    internal static DataLoader Create(LoaderOptions options, ISampleSource source, LoaderState? resumeFrom)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(source);
        options.Validate();
        LoaderState state = LoaderContext.StartState(options, source.Count, resumeFrom);
        return new CpuDataLoader(options, source, state);
    }

    public IEnumerator<Batch> GetEnumerator() => Cursor.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public IAsyncEnumerator<Batch> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        Cursor.GetAsyncEnumerator(cancellationToken);

    /// <summary>Stops every producer thread (promptly: each finishes at most the sample it is decoding) and frees
    /// the slots; a batch the consumer still holds stays valid until it is disposed.</summary>
    public void Dispose()
    {
        if (Cursor.Close())
        {
            DisposeCore();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Starts the run of one epoch's plan (the cursor calls it; one run at a time).</summary>
    private protected abstract EpochRun StartRun(EpochPlan plan);

    /// <summary>Frees what the implementation owns (the run is already stopped).</summary>
    private protected abstract void DisposeCore();
}
