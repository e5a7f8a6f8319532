using System.Text;
using Loader.Augment.Cuda.Interop;

namespace Loader.Augment.Cuda;

/// <summary>
/// One GPU, through its primary context: the context the CUDA runtime, libtorch and nvJPEG use, so a device
/// pointer from a TorchSharp CUDA tensor is valid here and ours are valid there. <see cref="MakeCurrent"/> binds it
/// to the calling thread; every public GPU operation in this assembly does that first.
/// </summary>
public sealed class CudaDevice : IDisposable
{
    private readonly PrimaryContextHandle _context;

    private CudaDevice(int ordinal, PrimaryContextHandle context, string name, int major, int minor, int multiprocessors, long totalMemory)
    {
        Ordinal = ordinal;
        _context = context;
        Name = name;
        ComputeCapabilityMajor = major;
        ComputeCapabilityMinor = minor;
        MultiprocessorCount = multiprocessors;
        TotalMemory = totalMemory;
    }

    public int Ordinal { get; }

    public string Name { get; }

    public int ComputeCapabilityMajor { get; }

    public int ComputeCapabilityMinor { get; }

    public int MultiprocessorCount { get; }

    public long TotalMemory { get; }

    /// <summary>The NVRTC architecture name, e.g. <c>sm_90</c> for an H100.</summary>
    public string Architecture => $"sm_{ComputeCapabilityMajor}{ComputeCapabilityMinor}";

    internal nint Context => _context.Pointer;

    /// <summary>Initializes the driver and retains device <paramref name="ordinal"/>'s primary context. Fails with a clear message without a GPU.</summary>
    public static CudaDevice Open(int ordinal = 0)
    {
        GpuAvailability.EnsureAvailable();
        CudaDriver.Check(CudaDriver.cuInit(0));
        CudaDriver.Check(CudaDriver.cuDeviceGet(out var device, ordinal));
        CudaDriver.Check(CudaDriver.cuDevicePrimaryCtxRetain(out var context, device));
        var handle = new PrimaryContextHandle(device, context);
        CudaDriver.Check(CudaDriver.cuCtxSetCurrent(context));
        CudaDriver.Check(CudaDriver.cuDeviceGetAttribute(out var major, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device));
        CudaDriver.Check(CudaDriver.cuDeviceGetAttribute(out var minor, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device));
        CudaDriver.Check(CudaDriver.cuDeviceGetAttribute(out var sms, CudaDriver.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device));
        CudaDriver.Check(CudaDriver.cuDeviceTotalMem(out var total, device));
        return new CudaDevice(ordinal, handle, DeviceName(device), major, minor, sms, (long)total);
    }

    internal static unsafe string DeviceName(int device)
    {
        var buffer = stackalloc byte[256];
        CudaDriver.Check(CudaDriver.cuDeviceGetName(buffer, 256, device));
        var length = 0;
        while (length < 256 && buffer[length] != 0)
        {
            length++;
        }

        return Encoding.UTF8.GetString(buffer, length);
    }

    /// <summary>Binds the primary context to the calling thread (cheap; CUDA keeps one current context per thread).</summary>
    public void MakeCurrent() => CudaDriver.Check(CudaDriver.cuCtxSetCurrent(_context.Pointer));

    /// <summary>
    /// For a Dispose that frees memory queued work may still use: runs <paramref name="wait"/> (a stream or event
    /// synchronize) with the context current, since Dispose may run on a thread that never used CUDA. A failing wait
    /// means a broken context, where nothing runs any more: it is swallowed and the caller frees anyway.
    /// </summary>
    internal void WaitBeforeFreeing(Action wait)
    {
        try
        {
            MakeCurrent();
            wait();
        }
        catch (CudaException)
        {
        }
    }

    /// <summary>
    /// Makes the legacy default stream (libtorch's stream; TorchSharp has no streams API) wait for
    /// <paramref name="cudaEvent"/>: the trainer calls this with a batch's event before it reads the batch. Our own
    /// streams are non-blocking, so without it libtorch could read a batch before it is written.
    /// </summary>
    public void DefaultStreamWait(CudaEvent cudaEvent)
    {
        ArgumentNullException.ThrowIfNull(cudaEvent);
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuStreamWaitEvent(CudaDriver.CU_STREAM_LEGACY, cudaEvent.Pointer, 0));
    }

    /// <summary>
    /// Records <paramref name="cudaEvent"/> on the legacy default stream: after the trainer has queued its last read of
    /// a batch slot, this event is the <c>consumerDone</c> to pass when the slot is written again.
    /// </summary>
    public void RecordOnDefaultStream(CudaEvent cudaEvent)
    {
        ArgumentNullException.ThrowIfNull(cudaEvent);
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuEventRecord(cudaEvent.Pointer, CudaDriver.CU_STREAM_LEGACY));
    }

    /// <summary>Makes <paramref name="stream"/> (0: the legacy default stream) wait on the GPU for <paramref name="cudaEvent"/>.</summary>
    public void StreamWait(nint stream, CudaEvent cudaEvent)
    {
        ArgumentNullException.ThrowIfNull(cudaEvent);
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuStreamWaitEvent(stream == 0 ? CudaDriver.CU_STREAM_LEGACY : stream, cudaEvent.Pointer, 0));
    }

    /// <summary>Records <paramref name="cudaEvent"/> on <paramref name="stream"/> (0: the legacy default stream).</summary>
    public void RecordOn(nint stream, CudaEvent cudaEvent)
    {
        ArgumentNullException.ThrowIfNull(cudaEvent);
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuEventRecord(cudaEvent.Pointer, stream == 0 ? CudaDriver.CU_STREAM_LEGACY : stream));
    }

    /// <summary>Queues a device-to-device copy on <paramref name="stream"/> (0: the legacy default stream).</summary>
    public void CopyDeviceToDeviceAsync(nint destination, nint source, long bytes, nint stream)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuMemcpyDtoDAsync(destination, source, (nuint)bytes, stream == 0 ? CudaDriver.CU_STREAM_LEGACY : stream));
    }

    /// <summary>
    /// Queues a host-to-device copy on <paramref name="stream"/> (0: the legacy default stream). From page-locked
    /// memory (<see cref="RegisterHostMemory"/>) it is asynchronous: the source must stay untouched until the stream
    /// has passed it; from pageable memory the driver stages the source before returning.
    /// </summary>
    public void CopyHostToDeviceAsync(nint destination, nint source, long bytes, nint stream)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync(destination, source, (nuint)bytes, stream == 0 ? CudaDriver.CU_STREAM_LEGACY : stream));
    }

    /// <summary>Page-locks <paramref name="bytes"/> of existing host memory at <paramref name="pointer"/> (PyTorch's
    /// pin_memory) until the returned registration is disposed.</summary>
    public PinnedHostRegistration RegisterHostMemory(nint pointer, long bytes) => new(this, pointer, bytes);

    public DeviceBuffer Allocate(long bytes) => new(this, bytes);

    public CudaStream CreateStream() => new(this);

    public CudaEvent CreateEvent() => new(this);

    public void Dispose() => _context.Dispose();
}
