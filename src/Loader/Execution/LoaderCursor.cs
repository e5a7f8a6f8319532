using System.Collections;
using Loader.Pipeline.Order;

namespace Loader.Pipeline.Execution;

/// <summary>
/// What the CPU and GPU loaders share around their runs: where the loader stands (<see cref="State"/>), the batches
/// the consumer holds, and the one enumeration (<see cref="EpochRun"/>) allowed at a time, with its enumerators.
/// </summary>
internal sealed class LoaderCursor
{
    private readonly object _owner;
    private readonly Func<LoaderState, EpochRun> _startRun;
    private readonly Lock _runLock = new();
    private LoaderState _state;
    private EpochRun? _run;
    private int _heldByConsumer;
    private bool _disposed;

    /// <param name="owner">The loader (named in errors).</param>
    /// <param name="start">The state to start from.</param>
    /// <param name="metrics">The loader's metrics.</param>
    /// <param name="startRun">Starts the run of the rest of the state's epoch.</param>
    public LoaderCursor(object owner, LoaderState start, LoaderMetrics metrics, Func<LoaderState, EpochRun> startRun)
    {
        _owner = owner;
        _state = start;
        Metrics = metrics;
        _startRun = startRun;
    }

    /// <summary>See <see cref="DataLoader.State"/>.</summary>
    public LoaderState State => _state;

    public LoaderMetrics Metrics { get; }

    /// <summary>The loader's type name, for errors.</summary>
    public string OwnerName => _owner.GetType().Name;

    public int HeldByConsumer => Volatile.Read(ref _heldByConsumer);

    /// <summary>The run in progress, if any (tests look at its threads).</summary>
    public EpochRun? CurrentRun => _run;

    public IEnumerator<Batch> GetEnumerator() => new Enumerator(this, StartRun());

    public IAsyncEnumerator<Batch> GetAsyncEnumerator(CancellationToken cancellationToken) =>
        new AsyncEnumerator(this, StartRun(), cancellationToken);

    /// <summary>Stops the run in progress and refuses new ones; false if it was already closed (the loader's
    /// dispose then has nothing left to do).</summary>
    public bool Close()
    {
        lock (_runLock)
        {
            if (_disposed)
            {
                return false;
            }

            _disposed = true;
            _run?.Dispose();
            _run = null;
            return true;
        }
    }

    public void OnTaken(Batch batch, int queueDepthAfter)
    {
        batch.OnTaken();
        Interlocked.Increment(ref _heldByConsumer);
        Metrics.BatchTaken(batch.Count, queueDepthAfter);
        _state = batch.StateAfter;
    }

    public void OnEpochFinished(EpochPlan plan) =>
        _state = new LoaderState(_state.Seed, plan.Epoch + 1, 0);

    /// <summary>
    /// Batch.Dispose (after the batch ended its lease): the slot goes back to <paramref name="pool"/>, which frees it
    /// instead when the loader has been disposed meanwhile.
    /// </summary>
    public void Release<TBatch>(TBatch batch, SlotPool<TBatch> pool)
        where TBatch : Batch
    {
        Interlocked.Decrement(ref _heldByConsumer);
        pool.Return(batch);
    }

    private EpochRun StartRun()
    {
        lock (_runLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, _owner);
            if (_run is not null)
            {
                throw new InvalidOperationException(
                    "The loader is already being enumerated: finish or dispose that enumerator first.");
            }

            _run = _startRun(_state);
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

    private sealed class Enumerator(LoaderCursor cursor, EpochRun run) : IEnumerator<Batch>
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

        public void Dispose() => cursor.EndRun(run);
    }

    private sealed class AsyncEnumerator(LoaderCursor cursor, EpochRun run, CancellationToken cancellationToken)
        : IAsyncEnumerator<Batch>
    {
        private Batch? _current;

        public Batch Current => _current ?? throw new InvalidOperationException("MoveNextAsync has not returned true.");

        [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
        public async ValueTask<bool> MoveNextAsync()
        {
            _current = await run.NextAsync(cancellationToken).ConfigureAwait(false);
            return _current is not null;
        }

        public ValueTask DisposeAsync()
        {
            cursor.EndRun(run);
            return ValueTask.CompletedTask;
        }
    }
}
