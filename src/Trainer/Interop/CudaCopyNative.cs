using System.Runtime.InteropServices;
using Loader.Augment.Cuda.Interop;

namespace Loader.Trainer.Interop;

/// <summary>
/// The two CUDA driver copies the trainer queues on libtorch's stream to move a GPU batch into its input tensors.
/// Augment.Cuda's driver interop is internal and has no device-to-device copy, and TorchSharp cannot wrap a device
/// pointer in a tensor (its from_blob takes host memory), so this is the one place the trainer calls libcuda.
/// Called only once <c>GpuAvailability</c> has found the driver (and loaded it, so the soname resolves).
/// </summary>
internal static partial class CudaCopyNative
{
    private const string Driver = "libcuda.so.1";

    /// <summary><c>CU_STREAM_LEGACY</c>: the legacy default stream, the one libtorch (and so TorchSharp) runs on.</summary>
    public const nint LegacyDefaultStream = 0x1;

    [LibraryImport(Driver, EntryPoint = "cuMemcpyDtoDAsync_v2")]
    private static partial int cuMemcpyDtoDAsync(nint destination, nint source, nuint bytes, nint stream);

    [LibraryImport(Driver, EntryPoint = "cuMemcpyHtoDAsync_v2")]
    private static partial int cuMemcpyHtoDAsync(nint destination, nint source, nuint bytes, nint stream);

    [LibraryImport(Driver)]
    private static partial int cuGetErrorString(int status, out nint text);

    /// <summary>Queues a device-to-device copy on the legacy default stream (the primary context must be current).</summary>
    public static void DeviceToDevice(nint destination, nint source, long bytes) =>
        Check(cuMemcpyDtoDAsync(destination, source, (nuint)bytes, LegacyDefaultStream), "cuMemcpyDtoDAsync");

    /// <summary>
    /// Queues a host-to-device copy on the legacy default stream. From pageable memory the driver stages the source
    /// before returning (no device synchronization), so the caller may reuse <paramref name="source"/> at once.
    /// </summary>
    public static unsafe void HostToDevice(nint destination, ReadOnlySpan<long> source)
    {
        fixed (long* pointer = source)
            Check(cuMemcpyHtoDAsync(destination, (nint)pointer, (nuint)(source.Length * sizeof(long)), LegacyDefaultStream), "cuMemcpyHtoDAsync");
    }

    private static void Check(int status, string function)
    {
        if (status == 0) return;
        string description = cuGetErrorString(status, out nint text) == 0 && text != 0
            ? Marshal.PtrToStringUTF8(text) ?? "unknown error"
            : "unknown error";
        throw new CudaException("CUDA driver", function, status, description);
    }
}
