using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Loader.Augment.Cuda.Interop;

/// <summary>
/// nvJPEG (<c>libnvjpeg.so.13</c> / <c>.12</c>, nvjpeg.h): the entry points for batched decode on the hardware
/// JPEG engines (A100/H100/H200) and the decoupled hybrid API (Huffman on a CPU thread, IDCT and colour conversion
/// on the GPU). nvJPEG has no error-string function: <see cref="Describe"/> carries the header's documentation.
/// </summary>
internal static partial class NvJpeg
{
    public const int MaxComponents = 4;

    // nvjpegBackend_t
    public const int NVJPEG_BACKEND_DEFAULT = 0;
    public const int NVJPEG_BACKEND_HYBRID = 1;
    public const int NVJPEG_BACKEND_GPU_HYBRID = 2;
    public const int NVJPEG_BACKEND_HARDWARE = 3;

    // nvjpegOutputFormat_t
    public const int NVJPEG_OUTPUT_RGBI = 5;

    // nvjpegChromaSubsampling_t
    public const int NVJPEG_CSS_GRAY = 6;

    public const uint NVJPEG_FLAGS_DEFAULT = 0;

    static NvJpeg() => CudaLibraryResolver.Register();

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegGetProperty(int type, out int value);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static unsafe partial int nvjpegCreateEx(int backend, NvJpegDevAllocator* deviceAllocator, NvJpegPinnedAllocator* pinnedAllocator, uint flags, out nint handle);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegDestroy(nint handle);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegJpegStateCreate(nint handle, out nint state);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegJpegStateDestroy(nint state);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static unsafe partial int nvjpegGetImageInfo(nint handle, byte* data, nuint length, out int components, out int subsampling, int* widths, int* heights);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegDecodeBatchedInitialize(nint handle, nint state, int batchSize, int maxCpuThreads, int outputFormat);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static unsafe partial int nvjpegDecodeBatched(nint handle, nint state, byte** data, nuint* lengths, NvJpegImage* destinations, nint stream);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static unsafe partial int nvjpegDecodeBatchedEx(nint handle, nint state, byte** data, nuint* lengths, NvJpegImage* destinations, nint* decodeParams, nint stream);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegDecodeBatchedSupportedEx(nint handle, nint jpegStream, nint decodeParams, out int isSupported);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegDecoderCreate(nint handle, int backend, out nint decoder);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegDecoderDestroy(nint decoder);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegDecoderJpegSupported(nint decoder, nint jpegStream, nint decodeParams, out int isSupported);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegDecoderStateCreate(nint handle, nint decoder, out nint state);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static unsafe partial int nvjpegBufferPinnedCreate(nint handle, NvJpegPinnedAllocator* allocator, out nint buffer);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegBufferPinnedDestroy(nint buffer);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static unsafe partial int nvjpegBufferDeviceCreate(nint handle, NvJpegDevAllocator* allocator, out nint buffer);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegBufferDeviceDestroy(nint buffer);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegStateAttachPinnedBuffer(nint state, nint buffer);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegStateAttachDeviceBuffer(nint state, nint buffer);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegJpegStreamCreate(nint handle, out nint jpegStream);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegJpegStreamDestroy(nint jpegStream);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static unsafe partial int nvjpegJpegStreamParse(nint handle, byte* data, nuint length, int saveMetadata, int saveStream, nint jpegStream);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static unsafe partial int nvjpegJpegStreamParseHeader(nint handle, byte* data, nuint length, nint jpegStream);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegDecodeParamsCreate(nint handle, out nint decodeParams);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegDecodeParamsDestroy(nint decodeParams);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegDecodeParamsSetOutputFormat(nint decodeParams, int outputFormat);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegDecodeParamsSetROI(nint decodeParams, int offsetX, int offsetY, int width, int height);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegDecodeJpegHost(nint handle, nint decoder, nint state, nint decodeParams, nint jpegStream);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static partial int nvjpegDecodeJpegTransferToDevice(nint handle, nint decoder, nint state, nint jpegStream, nint stream);

    [LibraryImport(CudaLibraryResolver.NvJpeg)]
    public static unsafe partial int nvjpegDecodeJpegDevice(nint handle, nint decoder, nint state, NvJpegImage* destination, nint stream);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(int status, [CallerArgumentExpression(nameof(status))] string call = "")
    {
        if (status != 0)
        {
            ThrowFailure(status, call);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowFailure(int status, string call) =>
        throw new CudaException("nvJPEG", CudaDriver.CallName(call), status, Describe(status));

    /// <summary>The <c>nvjpegStatus_t</c> name and what it means (nvjpeg.h has no error-string function).</summary>
    public static string Describe(int status) => status switch
    {
        0 => "NVJPEG_STATUS_SUCCESS",
        1 => "NVJPEG_STATUS_NOT_INITIALIZED: the handle was not created",
        2 => "NVJPEG_STATUS_INVALID_PARAMETER: a wrong parameter (null pointer, bad size, unsupported ROI)",
        3 => "NVJPEG_STATUS_BAD_JPEG: the JPEG stream is corrupt",
        4 => "NVJPEG_STATUS_JPEG_NOT_SUPPORTED: this JPEG type is not supported by nvJPEG",
        5 => "NVJPEG_STATUS_ALLOCATOR_FAILURE: device or pinned memory allocation failed",
        6 => "NVJPEG_STATUS_EXECUTION_FAILED: a CUDA call inside nvJPEG failed",
        7 => "NVJPEG_STATUS_ARCH_MISMATCH: the device cannot run this backend (no hardware JPEG engine?)",
        8 => "NVJPEG_STATUS_INTERNAL_ERROR: nvJPEG internal error",
        9 => "NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED: not implemented for this backend",
        10 => "NVJPEG_STATUS_INCOMPLETE_BITSTREAM: the JPEG stream ends too early",
        _ => $"unknown nvjpegStatus_t {status}",
    };
}

/// <summary><c>nvjpegImage_t</c>: four channel pointers and four pitches (<c>size_t</c> since CUDA 11); 64 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NvJpegImage
{
    public fixed ulong Channel[NvJpeg.MaxComponents];
    public fixed ulong Pitch[NvJpeg.MaxComponents];

    /// <summary>Interleaved RGB (<c>NVJPEG_OUTPUT_RGBI</c>) writes only channel 0.</summary>
    public static NvJpegImage Interleaved(nint pixels, int pitchBytes)
    {
        var image = default(NvJpegImage);
        image.Channel[0] = (ulong)pixels;
        image.Pitch[0] = (ulong)pitchBytes;
        return image;
    }
}

/// <summary><c>nvjpegDevAllocator_t</c>: <c>dev_malloc</c>, <c>dev_free</c> function pointers; we pass null (cudaMalloc).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NvJpegDevAllocator
{
    public nint DeviceMalloc;
    public nint DeviceFree;
}

/// <summary><c>nvjpegPinnedAllocator_t</c>: <c>pinned_malloc</c>, <c>pinned_free</c>; we pass null (cudaHostAlloc).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NvJpegPinnedAllocator
{
    public nint PinnedMalloc;
    public nint PinnedFree;
}
