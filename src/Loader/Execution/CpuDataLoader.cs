using Loader.Augment.Cuda;
using Loader.Pipeline.Order;
using Loader.Pipeline.Sources;

namespace Loader.Pipeline.Execution;

/// <summary>
/// The CPU implementation of <see cref="DataLoader"/>: <see cref="LoaderOptions.Threads"/> workers decode each
/// sample straight into a host slot (<see cref="CpuEpochRun"/>); batches are <see cref="HostBatch"/>es.
/// </summary>
internal sealed class CpuDataLoader : DataLoader
{
    private readonly ISampleSource _source;
    private readonly ISampleWorker[] _workers;
    private readonly SlotPool<HostBatch> _pool;
    private readonly CudaDevice? _pinDevice;

    public CpuDataLoader(LoaderOptions options, ISampleSource source, LoaderState state)
        : base(options, source.Count, source.ClassCount, state)
    {
        _source = source;
        _workers = new ISampleWorker[options.Threads];
        try
        {
            for (int i = 0; i < _workers.Length; i++)
            {
                _workers[i] = source.CreateWorker();
            }

            if (options.PinMemory)
            {
                GpuAvailability.EnsureAvailable();
                _pinDevice = CudaDevice.Open(options.PinMemoryDevice);
            }

            Action<HostBatch> release = Release;
            _pool = new SlotPool<HostBatch>(options.SlotCount, (long)options.BatchSize * source.BytesPerSample,
                                            () => CreateSlot(options, source.BytesPerSample, release),
                                            batch => batch.Slot.Dispose());
        }
        catch
        {
            DisposeWorkers();
            _pinDevice?.Dispose();
            throw;
        }
    }

    public override long SlotBytes => _pool.ImageBytes;

    internal SlotPool<HostBatch> Pool => _pool;

    internal IReadOnlyList<ISampleWorker> Workers => _workers;

    /// <summary>The run in progress, if any (tests look at its threads).</summary>
    internal CpuEpochRun? CurrentRun => (CpuEpochRun?)Cursor.CurrentRun;

    private protected override EpochRun StartRun(EpochPlan plan) => new CpuEpochRun(Context, _pool, _source, _workers, plan);

    private protected override void DisposeCore()
    {
        _pool.Dispose();
        DisposeWorkers();
        _source.Dispose();
        _pinDevice?.Dispose();
    }

    private HostBatch CreateSlot(LoaderOptions options, int bytesPerSample, Action<HostBatch> release)
    {
        var slot = new BatchSlot(options.BatchSize, bytesPerSample);
        try
        {
            if (_pinDevice is not null)
            {
                slot.PageLock = _pinDevice.RegisterHostMemory(slot.ImagesPointer, slot.ImageBytes);
            }
        }
        catch
        {
            slot.Dispose();
            throw;
        }

        return new HostBatch(slot, options.Output, release);
    }

    // Batch.Dispose: back to the pool (which frees it instead once the loader is disposed).
    private void Release(HostBatch batch) => Cursor.Release(batch, _pool);

    private void DisposeWorkers()
    {
        foreach (ISampleWorker? worker in _workers)
        {
            worker?.Dispose();
        }
    }
}
