using System.Collections;
using System.Collections.Concurrent;
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
    private readonly ConcurrentDictionary<long, byte> _badSamples = new();
    private readonly Action<string> _log;
    private readonly Lock _runLock = new();
    private LoaderState _state;
    private EpochRun? _run;
    private int _heldByConsumer;
    private bool _disposed;

    private DataLoader(LoaderOptions options, ISampleSource source, LoaderState state)
    {
        _options = options;
        _source = source;
        _state = state;
        _log = options.Log ?? (line => Console.Error.WriteLine(line));
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

            Pool = new SlotPool(options.SlotCount, options.BatchSize, source.BytesPerSample);
        }
        catch
        {
            DisposeWorkers();
            throw;
        }
    }

    /// <summary>Where the loader stands: after the consumer has taken batch k of an epoch, the position counts the
    /// samples of batches 0..k (of all ranks); after the last batch it is (Epoch + 1, 0).</summary>
    public LoaderState State => _state;

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

    internal SlotPool Pool { get; }

    internal ISampleWorker[] Workers { get; }

    internal Action<Batch> ReleaseBatch { get; }

    internal ulong Seed => _state.Seed;

    internal bool Strict => _options.Strict;

    internal int HeldByConsumer => Volatile.Read(ref _heldByConsumer);

    /// <summary>The run in progress, if any (tests look at its threads).</summary>
    internal EpochRun? CurrentRun => _run;

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

    public IEnumerator<Batch> GetEnumerator() => new Enumerator(this, StartRun());

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public IAsyncEnumerator<Batch> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        new AsyncEnumerator(this, StartRun(), cancellationToken);

    /// <summary>Stops every worker thread (promptly: each finishes at most the sample it is decoding) and frees the
    /// slots. Batches still held by the consumer become unusable.</summary>
    public void Dispose()
    {
        lock (_runLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _run?.Dispose();
            _run = null;
        }

        Pool.Dispose();
        DisposeWorkers();
        _source.Dispose();
    }

    internal bool IsKnownBad(long sampleId) => !_badSamples.IsEmpty && _badSamples.ContainsKey(sampleId);

    /// <summary>Logs a bad sample the first time it is seen.</summary>
    internal void ReportBadSample(long sampleId, BadSampleException error)
    {
        if (_badSamples.TryAdd(sampleId, 0))
        {
            Metrics.BadRecordFound();
            _log($"loader: skipping bad sample {sampleId}: {error.Message}. It is replaced by a later sample of the epoch's order.");
        }
    }

    internal void OnTaken(Batch batch, int queueDepthAfter)
    {
        Interlocked.Increment(ref _heldByConsumer);
        Metrics.BatchTaken(batch.Count, queueDepthAfter);
        _state = batch.StateAfter;
    }

    internal void OnEpochFinished(EpochPlan plan) =>
        _state = new LoaderState(_state.Seed, plan.Epoch + 1, 0);

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

    private EpochRun StartRun()
    {
        lock (_runLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_run is not null)
            {
                throw new InvalidOperationException(
                    "The loader is already being enumerated: finish or dispose that enumerator first.");
            }

            _run = new EpochRun(this, PlanEpoch(_state.Epoch, _state.Position));
            return _run;
        }
    }

    private void EndRun(EpochRun run)
    {
        lock (_runLock)
        {
            if (_run == run)
            {
                _run = null;
            }
        }

        run.Dispose();
    }

    private void Release(Batch batch)
    {
        BatchSlot? slot = batch.Detach();
        if (slot is null)
        {
            return; // already disposed
        }

        Interlocked.Decrement(ref _heldByConsumer);
        lock (_runLock)
        {
            if (!_disposed)
            {
                Pool.Return(slot);
            }
        }
    }

    private void DisposeWorkers()
    {
        foreach (ISampleWorker? worker in Workers)
        {
            worker?.Dispose();
        }
    }

    private sealed class Enumerator(DataLoader loader, EpochRun run) : IEnumerator<Batch>
    {
        private Batch? _current;

        public Batch Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true.");

        object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            _current = run.Next();
            return _current is not null;
        }

        public void Reset() => throw new NotSupportedException();

        public void Dispose() => loader.EndRun(run);
    }

    private sealed class AsyncEnumerator(DataLoader loader, EpochRun run, CancellationToken cancellationToken)
        : IAsyncEnumerator<Batch>
    {
        private Batch? _current;

        public Batch Current => _current ?? throw new InvalidOperationException("MoveNextAsync has not returned true.");

        public async ValueTask<bool> MoveNextAsync()
        {
            _current = await run.NextAsync(cancellationToken).ConfigureAwait(false);
            return _current is not null;
        }

        public ValueTask DisposeAsync()
        {
            loader.EndRun(run);
            return ValueTask.CompletedTask;
        }
    }
}
