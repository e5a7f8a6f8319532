using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Loader.Augment.Cuda.Interop;

/// <summary>
/// The CUDA driver API (<c>libcuda.so.1</c>, cuda.h), the few entry points we use. We only ever use the device's
/// primary context (<see cref="cuDevicePrimaryCtxRetain"/>): it is the context the CUDA runtime, libtorch and
/// nvJPEG use, so device pointers and streams are shared with them. Every call returns a <c>CUresult</c>; wrap it
/// in <see cref="Check"/>.
/// </summary>
internal static partial class CudaDriver
{
    public const int CUDA_SUCCESS = 0;
    public const int CUDA_ERROR_NOT_READY = 600;
    public const int CUDA_ERROR_NO_DEVICE = 100;

    // CUdevice_attribute values (cuda.h).
    public const int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;

    public const uint CU_STREAM_NON_BLOCKING = 0x1;

    /// <summary><c>CU_STREAM_LEGACY</c>: the legacy default stream, the one libtorch (and so TorchSharp) uses unless told otherwise.</summary>
    public const nint CU_STREAM_LEGACY = 0x1;
    public const uint CU_EVENT_DISABLE_TIMING = 0x2;

    static CudaDriver() => CudaLibraryResolver.Register();

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuInit(uint flags);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuDriverGetVersion(out int version);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuDeviceGetCount(out int count);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuDeviceGet(out int device, int ordinal);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static unsafe partial int cuDeviceGetName(byte* name, int length, int device);

    [LibraryImport(CudaLibraryResolver.Driver, EntryPoint = "cuDeviceTotalMem_v2")]
    public static partial int cuDeviceTotalMem(out nuint bytes, int device);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuDeviceGetAttribute(out int value, int attribute, int device);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuDevicePrimaryCtxRetain(out nint context, int device);

    [LibraryImport(CudaLibraryResolver.Driver, EntryPoint = "cuDevicePrimaryCtxRelease_v2")]
    public static partial int cuDevicePrimaryCtxRelease(int device);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuCtxSetCurrent(nint context);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuCtxGetCurrent(out nint context);

    [LibraryImport(CudaLibraryResolver.Driver, EntryPoint = "cuMemAlloc_v2")]
    public static partial int cuMemAlloc(out nint pointer, nuint bytes);

    [LibraryImport(CudaLibraryResolver.Driver, EntryPoint = "cuMemFree_v2")]
    public static partial int cuMemFree(nint pointer);

    [LibraryImport(CudaLibraryResolver.Driver, EntryPoint = "cuMemAllocHost_v2")]
    public static partial int cuMemAllocHost(out nint pointer, nuint bytes);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuMemFreeHost(nint pointer);

    [LibraryImport(CudaLibraryResolver.Driver, EntryPoint = "cuMemcpyHtoDAsync_v2")]
    public static partial int cuMemcpyHtoDAsync(nint destination, nint source, nuint bytes, nint stream);

    [LibraryImport(CudaLibraryResolver.Driver, EntryPoint = "cuMemcpyDtoHAsync_v2")]
    public static partial int cuMemcpyDtoHAsync(nint destination, nint source, nuint bytes, nint stream);

    [LibraryImport(CudaLibraryResolver.Driver, EntryPoint = "cuMemcpyDtoDAsync_v2")]
    public static partial int cuMemcpyDtoDAsync(nint destination, nint source, nuint bytes, nint stream);

    /// <summary>Page-locks existing host memory (flags 0: portable not needed, the primary context is shared).</summary>
    [LibraryImport(CudaLibraryResolver.Driver, EntryPoint = "cuMemHostRegister_v2")]
    public static partial int cuMemHostRegister(nint pointer, nuint bytes, uint flags);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuMemHostUnregister(nint pointer);

    [LibraryImport(CudaLibraryResolver.Driver, EntryPoint = "cuMemsetD8Async")]
    public static partial int cuMemsetD8Async(nint destination, byte value, nuint count, nint stream);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuStreamCreate(out nint stream, uint flags);

    [LibraryImport(CudaLibraryResolver.Driver, EntryPoint = "cuStreamDestroy_v2")]
    public static partial int cuStreamDestroy(nint stream);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuStreamSynchronize(nint stream);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuStreamWaitEvent(nint stream, nint cudaEvent, uint flags);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuEventCreate(out nint cudaEvent, uint flags);

    [LibraryImport(CudaLibraryResolver.Driver, EntryPoint = "cuEventDestroy_v2")]
    public static partial int cuEventDestroy(nint cudaEvent);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuEventRecord(nint cudaEvent, nint stream);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuEventQuery(nint cudaEvent);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuEventSynchronize(nint cudaEvent);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuModuleLoadData(out nint module, nint image);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuModuleUnload(nint module);

    [LibraryImport(CudaLibraryResolver.Driver, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int cuModuleGetFunction(out nint function, nint module, string name);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static unsafe partial int cuLaunchKernel(
        nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedMemoryBytes, nint stream, void** kernelParams, void** extra);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuGetErrorName(int result, out nint name);

    [LibraryImport(CudaLibraryResolver.Driver)]
    public static partial int cuGetErrorString(int result, out nint text);

    /// <summary>Throws a <see cref="CudaException"/> naming the call and the driver's error text unless <paramref name="result"/> is success.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(int result, [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result != CUDA_SUCCESS)
        {
            ThrowFailure(result, call);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowFailure(int result, string call) =>
        throw new CudaException("CUDA driver", CallName(call), result, Describe(result));

    /// <summary>"CUDA_ERROR_OUT_OF_MEMORY: out of memory", from the driver itself; a plain number if the driver cannot say.</summary>
    public static string Describe(int result)
    {
        try
        {
            var name = cuGetErrorName(result, out var namePointer) == CUDA_SUCCESS ? Marshal.PtrToStringUTF8(namePointer) : null;
            var text = cuGetErrorString(result, out var textPointer) == CUDA_SUCCESS ? Marshal.PtrToStringUTF8(textPointer) : null;
            return name is null ? $"CUresult {result}" : $"{name}: {text}";
        }
        catch (DllNotFoundException)
        {
            return $"CUresult {result}";
        }
    }

    /// <summary>"CudaDriver.cuMemAlloc(out p, n)" -> "cuMemAlloc": the native function's name for the message.</summary>
    internal static string CallName(string call)
    {
        var open = call.IndexOf('(', StringComparison.Ordinal);
        var head = open < 0 ? call : call[..open];
        var dot = head.LastIndexOf('.');
        return dot < 0 ? head.Trim() : head[(dot + 1)..].Trim();
    }
}
