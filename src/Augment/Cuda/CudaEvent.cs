using Loader.Augment.Cuda.Interop;

namespace Loader.Augment.Cuda;

/// <summary>A CUDA event without timing (the cheap kind): marks a point in a stream that other streams or the host wait on.</summary>
public sealed class CudaEvent : IDisposable
{
    private readonly EventHandle _event;

    internal CudaEvent(CudaDevice device)
    {
        device.MakeCurrent();
        _event = new EventHandle(device.Context);
        CudaDriver.Check(CudaDriver.cuEventCreate(out var cudaEvent, CudaDriver.CU_EVENT_DISABLE_TIMING));
        _event.Set(cudaEvent);
    }

    /// <summary>The <c>CUevent</c> (same object as a runtime <c>cudaEvent_t</c>: libtorch can wait on it).</summary>
    public nint Pointer => _event.Pointer;

    public void Record(CudaStream stream) => CudaDriver.Check(CudaDriver.cuEventRecord(Pointer, stream.Pointer));

    /// <summary>True once all work before the last <see cref="Record"/> has finished.</summary>
    public bool IsComplete
    {
        get
        {
            var result = CudaDriver.cuEventQuery(Pointer);
            if (result == CudaDriver.CUDA_ERROR_NOT_READY)
            {
                return false;
            }

            CudaDriver.Check(result);
            return true;
        }
    }

    public void Synchronize() => CudaDriver.Check(CudaDriver.cuEventSynchronize(Pointer));

    public void Dispose() => _event.Dispose();
}
