using Loader.Augment;
using Loader.Pipeline.Execution;
using Loader.Pipeline.Gpu;

namespace Loader.Pipeline;

/// <summary>
/// A finished batch: images in pinned memory (<see cref="DataLoader"/>) or in GPU memory (<see cref="GpuDataLoader"/>:
/// see <see cref="DevicePointer"/>), labels and sample ids. Dispose it when done so that its slot can be refilled;
/// the loader has only <see cref="LoaderOptions.PrefetchDepth"/> + 2 slots.
/// </summary>
public sealed class Batch : IDisposable
{
    private readonly Action<Batch> _release;
    private BatchSlot? _slot;
    private DeviceBatchSlot? _deviceSlot;
    private int[]? _shape;

    // Samples still being decoded; the batch is published when this reaches zero.
    internal int Remaining;

    internal Batch(BatchSlot slot, Action<Batch> release, OutputSpec output, int index, int count, int epoch,
                   long position, LoaderState stateAfter)
        : this(release, output, index, count, epoch, position, stateAfter)
    {
        _slot = slot;
        Remaining = count;
    }

    /// <summary>A batch of the GPU loader: images in device memory, written on <see cref="Stream"/>.</summary>
    internal Batch(DeviceBatchSlot slot, Action<Batch> release, OutputSpec output, int index, int count, int epoch,
                   long position, LoaderState stateAfter)
        : this(release, output, index, count, epoch, position, stateAfter)
    {
        _deviceSlot = slot;
        IsOnDevice = true;
    }

    private Batch(Action<Batch> release, OutputSpec output, int index, int count, int epoch, long position,
                  LoaderState stateAfter)
    {
        _release = release;
        Output = output;
        Index = index;
        Count = count;
        Epoch = epoch;
        Position = position;
        StateAfter = stateAfter;
    }

    /// <summary>True for the GPU loader's batches: the images are in device memory at <see cref="DevicePointer"/>.</summary>
    public bool IsOnDevice { get; }

    /// <summary>
    /// The device address (<c>CUdeviceptr</c>) of the images, <see cref="Count"/> * <see cref="OutputSpec.BytesPerSample"/>
    /// bytes in the layout of <see cref="Shape"/>; 0 for a CPU batch. Valid until the batch is disposed. Read it only
    /// on a stream that waits for <see cref="ReadyEvent"/> (e.g. <c>GpuDataLoader.WaitOnDefaultStream</c>).
    /// </summary>
    public nint DevicePointer => IsOnDevice ? DeviceSlot.Images.Pointer : 0;

    /// <summary>The <c>CUevent</c> recorded after the images were written; 0 for a CPU batch.</summary>
    public nint ReadyEvent => IsOnDevice ? DeviceSlot.Ready.Pointer : 0;

    /// <summary>The <c>CUstream</c> the images were written on (non-blocking); 0 for a CPU batch.</summary>
    public nint Stream => IsOnDevice ? DeviceSlot.Stream : 0;

    /// <summary>Samples in this batch (less than the batch size only for a Partial last batch).</summary>
    public int Count { get; }

    /// <summary><see cref="Count"/> * <see cref="OutputSpec.BytesPerSample"/> bytes, in pinned memory. A GPU batch
    /// has no host copy: it throws <see cref="InvalidOperationException"/> (use <see cref="DevicePointer"/>).</summary>
    public Span<byte> Images => Slot.Images(Count);

    /// <summary>The address of <see cref="Images"/>; valid until the batch is disposed. Throws for a GPU batch.</summary>
    public nint ImagesPointer => Slot.ImagesPointer;

    /// <summary>0-based class labels.</summary>
    public ReadOnlySpan<int> Labels => IsOnDevice ? DeviceSlot.Labels.AsSpan(0, Count) : Slot.Labels.AsSpan(0, Count);

    /// <summary>The records the samples came from (a bad record's replacement appears under its own id).</summary>
    public ReadOnlySpan<long> SampleIds => IsOnDevice ? DeviceSlot.SampleIds.AsSpan(0, Count) : Slot.SampleIds.AsSpan(0, Count);

    public OutputSpec Output { get; }

    /// <summary>NCHW: [Count, 3, H, W]; NHWC: [Count, H, W, 3].</summary>
    public int[] Shape => _shape ??= Output.Layout == PixelLayout.Nchw
        ? [Count, OutputSpec.Channels, Output.Height, Output.Width]
        : [Count, Output.Height, Output.Width, OutputSpec.Channels];

    public int Epoch { get; }

    /// <summary>The global position (see <see cref="LoaderState.Position"/>) of the epoch where this batch starts.</summary>
    public long Position { get; }

    /// <summary>The loader's state once this batch has been taken: resuming from it yields the next batch.</summary>
    public LoaderState StateAfter { get; }

    internal int Index { get; }

    internal BatchSlot Slot
    {
        get
        {
            if (IsOnDevice)
            {
                throw new InvalidOperationException(
                    "This batch is in GPU memory (GpuDataLoader): use DevicePointer, after waiting for ReadyEvent.");
            }

            BatchSlot? slot = _slot;
            ObjectDisposedException.ThrowIf(slot is null || slot.IsDisposed, this);
            return slot;
        }
    }

    internal DeviceBatchSlot DeviceSlot
    {
        get
        {
            DeviceBatchSlot? slot = _deviceSlot;
            ObjectDisposedException.ThrowIf(slot is null, this);
            return slot;
        }
    }

    /// <summary>Takes the slot back from this batch (once) for recycling.</summary>
    internal BatchSlot? Detach() => Interlocked.Exchange(ref _slot, null);

    /// <summary>Takes the device slot back from this GPU batch (once) for recycling.</summary>
    internal DeviceBatchSlot? DetachDevice() => Interlocked.Exchange(ref _deviceSlot, null);

    public void Dispose() => _release(this);
}
