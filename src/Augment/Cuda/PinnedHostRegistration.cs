using Loader.Augment.Cuda.Interop;

namespace Loader.Augment.Cuda;

/// <summary>
/// Host memory page-locked with <c>cuMemHostRegister</c> for as long as this object lives, so that copies from it
/// to the GPU are asynchronous DMA transfers (what PyTorch's <c>pin_memory=True</c> gives). The memory itself
/// belongs to the caller and must outlive the registration.
/// </summary>
public sealed class PinnedHostRegistration : IDisposable
{
    private readonly CudaDevice _device;
    private nint _pointer;

    internal PinnedHostRegistration(CudaDevice device, nint pointer, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        _device = device;
        device.MakeCurrent();
        CudaDriver.Check(CudaDriver.cuMemHostRegister(pointer, (nuint)bytes, 0));
        _pointer = pointer;
        Bytes = bytes;
    }

    public nint Pointer => _pointer;

    public long Bytes { get; }

    public void Dispose()
    {
        nint pointer = Interlocked.Exchange(ref _pointer, 0);
        if (pointer != 0)
        {
            _device.MakeCurrent();
            CudaDriver.Check(CudaDriver.cuMemHostUnregister(pointer));
        }
    }
}
