using System.Runtime.InteropServices;

namespace Loader.Augment.Cuda.Interop;

/// <summary>
/// Base of the driver-API handles. Releasing a CUDA object needs its context current on the calling thread (the
/// finalizer thread has none), so each handle remembers its primary context and makes it current before freeing.
/// </summary>
internal abstract class CudaContextBoundHandle : SafeHandle
{
    protected CudaContextBoundHandle(nint context) : base(IntPtr.Zero, ownsHandle: true) => Context = context;

    public nint Context { get; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    public nint Pointer => handle;

    internal void Set(nint value) => SetHandle(value);

    protected sealed override bool ReleaseHandle()
    {
        // Status ignored on purpose: a release must not throw, and a failed free at shutdown is harmless.
        _ = CudaDriver.cuCtxSetCurrent(Context);
        return Free(handle) == CudaDriver.CUDA_SUCCESS;
    }

    protected abstract int Free(nint value);
}

/// <summary>Device memory from <c>cuMemAlloc</c>.</summary>
internal sealed class DeviceMemoryHandle(nint context) : CudaContextBoundHandle(context)
{
    protected override int Free(nint value) => CudaDriver.cuMemFree(value);
}

/// <summary>Page-locked host memory from <c>cuMemAllocHost</c> (fast, asynchronous host-device copies).</summary>
internal sealed class PinnedMemoryHandle(nint context) : CudaContextBoundHandle(context)
{
    protected override int Free(nint value) => CudaDriver.cuMemFreeHost(value);
}

/// <summary>A <c>CUstream</c> (same object as a runtime <c>cudaStream_t</c>).</summary>
internal sealed class StreamHandle(nint context) : CudaContextBoundHandle(context)
{
    protected override int Free(nint value) => CudaDriver.cuStreamDestroy(value);
}

/// <summary>A <c>CUevent</c>.</summary>
internal sealed class EventHandle(nint context) : CudaContextBoundHandle(context)
{
    protected override int Free(nint value) => CudaDriver.cuEventDestroy(value);
}

/// <summary>A loaded <c>CUmodule</c> (our compiled kernels).</summary>
internal sealed class CudaModuleHandle(nint context) : CudaContextBoundHandle(context)
{
    protected override int Free(nint value) => CudaDriver.cuModuleUnload(value);
}

/// <summary>A retained primary context; releasing it drops our reference (the context lives on while libtorch holds one).</summary>
internal sealed class PrimaryContextHandle : SafeHandle
{
    public PrimaryContextHandle(int device, nint context) : base(IntPtr.Zero, ownsHandle: true)
    {
        Device = device;
        SetHandle(context);
    }

    public int Device { get; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    public nint Pointer => handle;

    protected override bool ReleaseHandle() => CudaDriver.cuDevicePrimaryCtxRelease(Device) == CudaDriver.CUDA_SUCCESS;
}
