using Loader.Augment;
using Loader.Augment.Cuda;
using Loader.Pipeline.Gpu;

namespace Loader.Pipeline;

/// <summary>
/// A batch in GPU memory (a loader with <see cref="LoaderDevice.Cuda"/>): decoded by nvJPEG and augmented by one
/// CUDA launch straight into the loader's device slot. The stream protocol is the loader's business, as in DALI's
/// iterators: when the consumer takes the batch, the consumer's stream (<see cref="LoaderOptions.ConsumerStream"/>,
/// libtorch's by default) is made to wait for it on the GPU, so it may be read at once from that stream; disposing
/// the batch records where that stream stands, and the slot is not written again before the GPU gets there.
/// </summary>
public sealed class DeviceBatch : Batch
{
    private readonly DeviceBatchSlot _slot;
    private readonly CudaDevice _device;
    private readonly nint _consumerStream;
    private readonly Action<DeviceBatch> _release;

    internal DeviceBatch(DeviceBatchSlot slot, CudaDevice device, nint consumerStream, OutputSpec output,
                         Action<DeviceBatch> release)
        : base(output)
    {
        _slot = slot;
        _device = device;
        _consumerStream = consumerStream;
        _release = release;
    }

    /// <summary>The device address (<c>CUdeviceptr</c>) of the images, <see cref="Batch.ImageBytes"/> bytes in the
    /// layout of <see cref="Batch.Shape"/>; valid until the batch is disposed.</summary>
    public nint DevicePointer
    {
        get
        {
            ThrowIfNotHeld();
            return _slot.Images.Pointer;
        }
    }

    /// <summary>The CUDA device ordinal the images are on.</summary>
    public int DeviceIndex => _device.Ordinal;

    /// <summary>The <c>CUevent</c> recorded after the images were written (already waited for by the consumer's
    /// stream; other streams may wait for it too).</summary>
    public nint ReadyEvent => _slot.Ready.Pointer;

    /// <summary>Blocks the calling thread until the images are written (checks and benchmarks only).</summary>
    public void Synchronize()
    {
        ThrowIfNotHeld();
        _slot.Ready.Synchronize();
    }

    /// <summary>Copies the images to host memory, waiting for them (checks, previews, tests: not a hot path).</summary>
    public void CopyToHost(Span<byte> destination)
    {
        ThrowIfNotHeld();
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, ImageBytes, nameof(destination));
        // Queued on the stream the images were written on, after them, and waited for: no separate wait needed.
        _slot.Images.CopyToHost(destination[..(int)ImageBytes], _slot.WriteStream);
    }

    internal DeviceBatchSlot Slot => _slot;

    internal override int[] LabelStore => _slot.Labels;

    internal override long[] SampleIdStore => _slot.SampleIds;

    internal override long[] PlannedIds => _slot.PlannedIds;

    internal override void OnTaken() => _device.StreamWait(_consumerStream, _slot.Ready);

    private protected override void Release()
    {
        // The consumer has queued its last read of the slot on its stream: mark that point so the slot's next
        // batch waits for it on the GPU before writing.
        _device.RecordOn(_consumerStream, _slot.ConsumerDone);
        _slot.ConsumerDoneRecorded = true;
        _release(this);
    }
}
