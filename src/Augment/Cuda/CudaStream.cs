using Loader.Augment.Cuda.Interop;

namespace Loader.Augment.Cuda;

/// <summary>A non-blocking CUDA stream. <see cref="Pointer"/> is a <c>CUstream</c>, the same object as a runtime <c>cudaStream_t</c> (nvJPEG takes it).</summary>
public sealed class CudaStream : IDisposable
{
    private readonly StreamHandle _stream;

    internal CudaStream(CudaDevice device)
    {
        device.MakeCurrent();
        _stream = new StreamHandle(device.Context);
        CudaDriver.Check(CudaDriver.cuStreamCreate(out var stream, CudaDriver.CU_STREAM_NON_BLOCKING));
        _stream.Set(stream);
    }

    public nint Pointer => _stream.Pointer;

    /// <summary>Work queued on this stream after this call waits for <paramref name="cudaEvent"/> (on the GPU; the host does not block).</summary>
    public void Wait(CudaEvent cudaEvent) => CudaDriver.Check(CudaDriver.cuStreamWaitEvent(Pointer, cudaEvent.Pointer, 0));

    /// <summary>Work queued on this stream after this call waits for an event recorded by another library (e.g. libtorch's stream).</summary>
    public void Wait(nint foreignEvent) => CudaDriver.Check(CudaDriver.cuStreamWaitEvent(Pointer, foreignEvent, 0));

    public void Synchronize() => CudaDriver.Check(CudaDriver.cuStreamSynchronize(Pointer));

    public void Dispose() => _stream.Dispose();
}
