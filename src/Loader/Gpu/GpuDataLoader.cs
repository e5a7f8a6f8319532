using System.Collections;
using Loader.Augment;
using Loader.Augment.Cuda;
using Loader.Pipeline.Execution;
using Loader.Pipeline.Order;
using Loader.Pipeline.Sources;
using Loader.Records;

namespace Loader.Pipeline.Gpu;

/// <summary>
/// The GPU variant of <see cref="DataLoader"/>: the same order, sharding, resumption and bad-sample policy (one
/// <see cref="EpochPlan"/> for both), the same record reader and sample plans, but each batch is decoded by nvJPEG
/// and augmented by one CUDA launch (<see cref="GpuBatchProcessor"/>) straight into device memory. Batches have
/// <see cref="Batch.IsOnDevice"/> set and their images at <see cref="Batch.DevicePointer"/>.
/// </summary>
/// <remarks>
/// Streams: a batch is written on <see cref="Stream"/> (non-blocking) and <see cref="Batch.ReadyEvent"/> is
/// recorded after it. Before reading it on libtorch's (legacy default) stream, call
/// <see cref="WaitOnDefaultStream"/>; disposing the batch records an event on that same stream, and the next batch
/// written into the slot waits for it on the GPU, so a slot is never overwritten while a queued read may still use
/// it. The loader allocates <c>PrefetchDepth + 2</c> device slots once.
/// </remarks>
/// <example>
/// <code>
/// using var loader = GpuDataLoader.Create(new LoaderOptions { DataDirectory = dir, Output = OutputSpec.ImageNet(PixelType.Float16) });
/// foreach (Batch batch in loader)
/// {
///     using (batch)
///     {
///         loader.WaitOnDefaultStream(batch);
///         Train(batch.DevicePointer, batch.Shape, batch.Labels);   // e.g. a TorchSharp CUDA tensor over the pointer
///     }
/// }
/// </code>
/// </example>
public sealed class GpuDataLoader : IAsyncEnumerable<Batch>, IEnumerable<Batch>, IDisposable
{
    private readonly LoaderOptions _options;
    private readonly RecordSampleSource _source;
    private readonly CudaDevice _device;
    private readonly Action<DeviceBatchSlot> _recycle;
    private long _hardwareDecodes;
    private long _hybridDecodes;
    private long _cpuFallbackDecodes;

    private GpuDataLoader(LoaderOptions options, RecordDataset dataset, RecordSampleSource source, CudaDevice device,
                          LoaderState state, GpuDecodeOptions? decode)
    {
        _options = options;
        _source = source;
        _device = device;
        Cursor = new LoaderCursor(this, state, Metrics,
                                  start => new GpuEpochRun(this, DataLoader.PlanEpoch(_options, _source.Count, start.Epoch, start.Position)));
        Output = options.Output;
        ReleaseBatch = Release;
        _recycle = Recycle;
        EpochPlan full = DataLoader.PlanEpoch(options, source.Count, state.Epoch, 0);
        SamplesPerEpoch = full.SamplesPerRank;
        BatchesPerEpoch = full.BatchCount;

        var bad = new BadSampleRegistry(Metrics, options.Log ?? (line => Console.Error.WriteLine(line)));
        try
        {
            Processor = new GpuBatchProcessor(device, options.Output, options.BatchSize, decode);
            nint stream = Processor.Stream.Pointer;
            Pool = new SlotPool<DeviceBatchSlot>(options.SlotCount, (long)options.BatchSize * options.Output.BytesPerSample,
                                                 () => new DeviceBatchSlot(device, stream, options.BatchSize, options.Output.BytesPerSample));
            Assembler = new GpuBatchAssembler(dataset, source.Describe, options, bad, Metrics);
        }
        catch
        {
            Pool?.Dispose();
            Processor?.Dispose();
            throw;
        }
    }

    /// <summary>Where the loader stands (see <see cref="DataLoader.State"/>: the same numbers, interchangeable).</summary>
    public LoaderState State => Cursor.State;

    public long SamplesPerEpoch { get; }

    public int BatchesPerEpoch { get; }

    public int ClassCount => _source.ClassCount;

    public long DatasetSize => _source.Count;

    public OutputSpec Output { get; }

    public LoaderMetrics Metrics { get; } = new();

    /// <summary>Bytes of device memory held by the batch slots (allocated once).</summary>
    public long SlotBytes => Pool.ImageBytes;

    /// <summary>The GPU (primary context, shared with libtorch).</summary>
    public CudaDevice Device => _device;

    /// <summary>The stream every batch is written on.</summary>
    public CudaStream Stream => Processor.Stream;

    /// <summary>Whether nvJPEG's hardware decoder is in use (A100/H100/H200), and why not otherwise.</summary>
    public bool UsesHardwareDecoder => Processor.UsesHardwareDecoder;

    public string? HardwareUnavailableReason => Processor.HardwareUnavailableReason;

    /// <summary>Samples decoded so far by nvJPEG's hardware backend, its hybrid backend, and the CPU fallback.</summary>
    public (long Hardware, long Hybrid, long CpuFallback) DecodeCounts =>
        (Interlocked.Read(ref _hardwareDecodes), Interlocked.Read(ref _hybridDecodes), Interlocked.Read(ref _cpuFallbackDecodes));

    internal GpuBatchProcessor Processor { get; }

    internal SlotPool<DeviceBatchSlot> Pool { get; }

    internal GpuBatchAssembler Assembler { get; }

    internal Action<Batch> ReleaseBatch { get; }

    internal LoaderCursor Cursor { get; }

    /// <summary>
    /// Opens the GPU (failing at once, with <see cref="GpuAvailability"/>'s message, where there is none) and the
    /// records in <see cref="LoaderOptions.DataDirectory"/>; <paramref name="resumeFrom"/> as for
    /// <see cref="DataLoader.Create(LoaderOptions, LoaderState?)"/>.
    /// </summary>
    public static GpuDataLoader Create(LoaderOptions options, LoaderState? resumeFrom = null, GpuDecodeOptions? decode = null,
                                       int deviceOrdinal = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        GpuAvailability.EnsureAvailable();
        var dataset = RecordDataset.Open(options.DataDirectory, new RecordReadOptions(options.VerifyCrc));
        RecordSampleSource? source = null;
        CudaDevice? device = null;
        try
        {
            source = new RecordSampleSource(dataset, options.Augment, options.Output, options.Train, options.Seed);
            LoaderState state = DataLoader.StartState(options, source.Count, resumeFrom);
            device = CudaDevice.Open(deviceOrdinal);
            return new GpuDataLoader(options, dataset, source, device, state, decode);
        }
        catch
        {
            device?.Dispose();
            if (source is not null)
            {
                source.Dispose();
            }
            else
            {
                dataset.Dispose();
            }

            throw;
        }
    }

    /// <summary>Makes libtorch's stream (the legacy default stream) wait, on the GPU, until the batch is written.</summary>
    public void WaitOnDefaultStream(Batch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        _device.DefaultStreamWait(batch.DeviceSlot.Ready);
    }

    /// <summary>Blocks the calling thread until the batch is written (checks and benchmarks; a trainer uses
    /// <see cref="WaitOnDefaultStream"/>, which does not block the host).</summary>
    public void Synchronize(Batch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.DeviceSlot.Ready.Synchronize();
    }

    /// <summary>Copies a batch's images to the host, waiting for them (checks, previews, tests: not a hot path).</summary>
    public void CopyToHost(Batch batch, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int bytes = batch.Count * Output.BytesPerSample;
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, bytes, nameof(destination));
        batch.DeviceSlot.Images.CopyToHost(destination[..bytes], Processor.Stream);
    }

    public IEnumerator<Batch> GetEnumerator() => Cursor.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public IAsyncEnumerator<Batch> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        Cursor.GetAsyncEnumerator(cancellationToken);

    /// <summary>Stops the producer, waits for the GPU to finish what was queued, and frees the slots. Batches still
    /// held by the consumer become unusable.</summary>
    public void Dispose()
    {
        if (!Cursor.Close())
        {
            return;
        }

        Processor.Stream.Synchronize();
        Pool.Dispose();
        Assembler.Dispose();
        Processor.Dispose();
        _device.Dispose();
        _source.Dispose();
    }

    internal void CountDecodes(GpuBatchStats stats)
    {
        Interlocked.Add(ref _hardwareDecodes, stats.Hardware);
        Interlocked.Add(ref _hybridDecodes, stats.Hybrid);
        Interlocked.Add(ref _cpuFallbackDecodes, stats.CpuFallback);
    }

    private void Release(Batch batch) => Cursor.Release(batch.DetachDevice(), _recycle);

    // Batch.Dispose: the consumer has queued its last read of the slot on libtorch's stream; mark that point so the
    // slot's next batch waits for it, then recycle the slot.
    private void Recycle(DeviceBatchSlot slot)
    {
        _device.RecordOnDefaultStream(slot.ConsumerDone);
        slot.ConsumerDoneRecorded = true;
        Pool.Return(slot);
    }
}
