using Loader.Augment.Cuda;
using Loader.Pipeline.Execution;
using Loader.Pipeline.Order;
using Loader.Pipeline.Sources;

namespace Loader.Pipeline.Gpu;

/// <summary>
/// The GPU implementation of <see cref="DataLoader"/> (<see cref="LoaderOptions.Device"/> = cuda:N): the same order,
/// sharding, resumption, per-sample preparation and bad-sample policy as the CPU one (through
/// <see cref="LoaderContext"/> and <see cref="SamplePreparation"/>), but each batch is decoded by nvJPEG and
/// augmented by one CUDA launch (<see cref="GpuBatchProcessor"/>) straight into device memory; batches are
/// <see cref="DeviceBatch"/>es whose stream protocol is handled when the consumer takes them.
/// </summary>
internal sealed class GpuDataLoader : DataLoader
{
    private readonly RecordSampleSource _source;
    private readonly CudaDevice _device;
    private readonly GpuBatchProcessor _processor;
    private readonly SlotPool<DeviceBatch> _pool;
    private readonly GpuBatchAssembler _assembler;

    private GpuDataLoader(LoaderOptions options, RecordSampleSource source, CudaDevice device, LoaderState state)
        : base(options, source.Count, source.ClassCount, state)
    {
        _source = source;
        _device = device;
        try
        {
            _processor = new GpuBatchProcessor(device, options.Output, options.BatchSize, options.GpuDecode);
            Metrics.UsesHardwareDecoder = _processor.UsesHardwareDecoder;
            Metrics.HardwareUnavailableReason = _processor.HardwareUnavailableReason;
            CudaStream stream = _processor.Stream;
            Action<DeviceBatch> release = Release;
            _pool = new SlotPool<DeviceBatch>(options.SlotCount, (long)options.BatchSize * options.Output.BytesPerSample,
                () => new DeviceBatch(new DeviceBatchSlot(device, stream, options.BatchSize, options.Output.BytesPerSample),
                                      device, options.ConsumerStream, options.Output, release),
                batch => batch.Slot.Dispose());
            _assembler = new GpuBatchAssembler(source.Preparation, options, Context.BadSamples);
        }
        catch
        {
            _pool?.Dispose();
            _processor?.Dispose();
            throw;
        }
    }

    public override long SlotBytes => _pool.ImageBytes;

    internal GpuEpochRun? CurrentRun => (GpuEpochRun?)Cursor.CurrentRun;

    /// <summary>Opens the GPU (failing at once, with <see cref="GpuAvailability"/>'s message, where there is none)
    /// and the records.</summary>
    public static GpuDataLoader Open(LoaderOptions options, LoaderState? resumeFrom)
    {
        GpuAvailability.EnsureAvailable();
        var dataset = options.OpenRecords();
        RecordSampleSource? source = null;
        CudaDevice? device = null;
        try
        {
            source = new RecordSampleSource(dataset, options);
            LoaderState state = LoaderContext.StartState(options, source.Count, resumeFrom);
            device = CudaDevice.Open(options.Device.Index);
            return new GpuDataLoader(options, source, device, state);
        }
        catch
        {
            device?.Dispose();
            dataset.Dispose();
            throw;
        }
    }

    private protected override EpochRun StartRun(EpochPlan plan) => new GpuEpochRun(Context, _pool, _assembler, _processor, plan);

    private protected override void DisposeCore()
    {
        _processor.Stream.Synchronize();
        _pool.Dispose();
        _assembler.Dispose();
        _processor.Dispose();
        _device.Dispose();
        _source.Dispose();
    }

    private void Release(DeviceBatch batch) => Cursor.Release(batch, _pool);
}
