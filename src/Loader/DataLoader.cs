using System.Collections;
using Loader.Augment;
using Loader.Pipeline.Execution;
using Loader.Pipeline.Order;
using Loader.Pipeline.Sources;
using Loader.Records;

namespace Loader.Pipeline;

/// <summary>
/// Record shards in, finished batches out: ordered, sharded, resumable, decoded on <see cref="LoaderOptions.Threads"/>
/// threads into a fixed set of pinned batch slots.
/// </summary>
/// <example>
/// <code>
/// using var loader = DataLoader.Create(new LoaderOptions { DataDirectory = dir, Threads = 8 });
/// await foreach (Batch batch in loader)   // the remaining batches of loader.State.Epoch
/// {
///     using (batch) { Train(batch.ImagesPointer, batch.Shape, batch.Labels); }
///     SaveCheckpointNowAndThen(loader.State);
/// }
/// </code>
/// </example>
public sealed class DataLoader : IAsyncEnumerable<Batch>, IEnumerable<Batch>, IDisposable
{
    private readonly LoaderOptions _options;
    private readonly ISampleSource _source;
    private readonly Action<BatchSlot> _recycle;

    private DataLoader(LoaderOptions options, ISampleSource source, LoaderState state)
    {
        _options = options;
        _source = source;
        Cursor = new LoaderCursor(this, state, Metrics, start => new CpuEpochRun(this, PlanEpoch(start.Epoch, start.Position)));
        BadSamples = new BadSampleRegistry(Metrics, options.Log ?? (line => Console.Error.WriteLine(line)));
        Output = options.Output;
        ReleaseBatch = Release;

        EpochPlan full = PlanEpoch(state.Epoch, 0);
        SamplesPerEpoch = full.SamplesPerRank;
        BatchesPerEpoch = full.BatchCount;

        Workers = new ISampleWorker[options.Threads];
        try
        {
            for (int i = 0; i < Workers.Length; i++)
            {
                Workers[i] = source.CreateWorker();
            }

            Pool = new SlotPool<BatchSlot>(options.SlotCount, (long)options.BatchSize * source.BytesPerSample,
                                           () => new BatchSlot(options.BatchSize, source.BytesPerSample));
        }
        catch
        {
            DisposeWorkers();
            throw;
        }

        _recycle = Pool.Return;
    }

    /// <summary>Where the loader stands: after the consumer has taken batch k of an epoch, the position counts the
    /// samples of batches 0..k (of all ranks); after the last batch it is (Epoch + 1, 0).</summary>
    public LoaderState State => Cursor.State;

    /// <summary>Samples this rank delivers in a whole epoch.</summary>
    public long SamplesPerEpoch { get; }

    /// <summary>Batches per epoch, the same on every rank.</summary>
    public int BatchesPerEpoch { get; }

    public int ClassCount => _source.ClassCount;

    /// <summary>Samples in the data set.</summary>
    public long DatasetSize => _source.Count;

    public OutputSpec Output { get; }

    public LoaderMetrics Metrics { get; } = new();

    /// <summary>Bytes of image memory held by the batch slots (allocated once).</summary>
    public long SlotBytes => Pool.ImageBytes;

    internal SlotPool<BatchSlot> Pool { get; }

    internal ISampleWorker[] Workers { get; }

    internal Action<Batch> ReleaseBatch { get; }

    internal LoaderCursor Cursor { get; }

    internal BadSampleRegistry BadSamples { get; }

    internal ulong Seed => Cursor.State.Seed;

    internal bool Strict => _options.Strict;

    /// <summary>The run in progress, if any (tests look at its threads).</summary>
    internal CpuEpochRun? CurrentRun => (CpuEpochRun?)Cursor.CurrentRun;

    /// <summary>
    /// Opens the records in <see cref="LoaderOptions.DataDirectory"/>. With <paramref name="resumeFrom"/>, the first
    /// enumeration continues that epoch from that position, yielding exactly the batches an uninterrupted run would
    /// have; the world size may differ from the one that saved the state.
    /// </summary>
    public static DataLoader Create(LoaderOptions options, LoaderState? resumeFrom = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var dataset = RecordDataset.Open(options.DataDirectory, new RecordReadOptions(options.VerifyCrc));
        try
        {
            var source = new RecordSampleSource(dataset, options.Augment, options.Output, options.Train, options.Seed);
            return Create(options, source, resumeFrom);
        }
        catch
        {
            dataset.Dispose();
            throw;
        }
    }

    /// <summary>The executor over any sample source: the seam the ordering and threading tests use.</summary>
    internal static DataLoader Create(LoaderOptions options, ISampleSource source, LoaderState? resumeFrom)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(source);
        options.Validate();
        LoaderState state = StartState(options, source.Count, resumeFrom);
        return new DataLoader(options, source, state);
    }

    public IEnumerator<Batch> GetEnumerator() => Cursor.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public IAsyncEnumerator<Batch> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        Cursor.GetAsyncEnumerator(cancellationToken);

    /// <summary>Stops every worker thread (promptly: each finishes at most the sample it is decoding) and frees the
    /// slots. Batches still held by the consumer become unusable.</summary>
    public void Dispose()
    {
        if (!Cursor.Close())
        {
            return;
        }

        Pool.Dispose();
        DisposeWorkers();
        _source.Dispose();
    }

    /// <summary>The state a loader starts from, checked against the options and the data set (shared with the GPU loader).</summary>
    internal static LoaderState StartState(LoaderOptions options, long datasetSize, LoaderState? resumeFrom)
    {
        LoaderState state = resumeFrom ?? new LoaderState(options.Seed, 0, 0);
        if (state.Seed != options.Seed)
        {
            throw new ArgumentException(
                $"The state to resume from was saved with seed {state.Seed}, but the options say seed {options.Seed}.",
                nameof(resumeFrom));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(state.Epoch, nameof(resumeFrom));
        if (state.Position < 0 || state.Position > datasetSize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(resumeFrom), state.Position, $"The position must lie in [0, {datasetSize}] (the data set size).");
        }

        if (datasetSize == 0)
        {
            throw new ArgumentException("The data set holds no samples.", nameof(datasetSize));
        }

        return state;
    }

    /// <summary>One rank's plan for an epoch from a position: the one planner the CPU and GPU loaders share.</summary>
    internal static EpochPlan PlanEpoch(LoaderOptions options, long datasetSize, int epoch, long start)
    {
        EpochPermutation order = !options.Train ? EpochPermutation.Sequential(datasetSize)
            : options.ShuffleBlockSize > 1 ? EpochPermutation.BlockShuffled(datasetSize, options.ShuffleBlockSize, options.Seed, epoch)
            : EpochPermutation.Shuffled(datasetSize, options.Seed, epoch);
        return new EpochPlan(order, epoch, start, options.Rank, options.WorldSize, options.BatchSize, options.LastBatch);
    }

    private EpochPlan PlanEpoch(int epoch, long start) => PlanEpoch(_options, _source.Count, epoch, start);

    private void Release(Batch batch) => Cursor.Release(batch.Detach(), _recycle);

    private void DisposeWorkers()
    {
        foreach (ISampleWorker? worker in Workers)
        {
            worker?.Dispose();
        }
    }
}
