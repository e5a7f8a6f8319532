using System.Runtime.InteropServices;

namespace Loader.Augment.Cuda.Interop;

/// <summary>Base of the nvJPEG handles: an opaque pointer and the destroy function that frees it.</summary>
internal abstract class NvJpegHandleBase : SafeHandle
{
    protected NvJpegHandleBase() : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    public nint Pointer => handle;

    internal void Set(nint value) => SetHandle(value);

    protected sealed override bool ReleaseHandle() => Destroy(handle) == 0;

    protected abstract int Destroy(nint value);
}

/// <summary><c>nvjpegHandle_t</c>: the library instance, bound to one backend.</summary>
internal sealed class NvJpegLibraryHandle : NvJpegHandleBase
{
    protected override int Destroy(nint value) => NvJpeg.nvjpegDestroy(value);
}

/// <summary><c>nvjpegJpegState_t</c>: per-thread decode state (batched or decoupled).</summary>
internal sealed class NvJpegStateHandle : NvJpegHandleBase
{
    protected override int Destroy(nint value) => NvJpeg.nvjpegJpegStateDestroy(value);
}

/// <summary><c>nvjpegJpegDecoder_t</c>: a decoder of one backend for the decoupled API.</summary>
internal sealed class NvJpegDecoderHandle : NvJpegHandleBase
{
    protected override int Destroy(nint value) => NvJpeg.nvjpegDecoderDestroy(value);
}

/// <summary><c>nvjpegJpegStream_t</c>: a parsed bitstream.</summary>
internal sealed class NvJpegStreamHandle : NvJpegHandleBase
{
    protected override int Destroy(nint value) => NvJpeg.nvjpegJpegStreamDestroy(value);
}

/// <summary><c>nvjpegDecodeParams_t</c>: output format and region of interest.</summary>
internal sealed class NvJpegDecodeParamsHandle : NvJpegHandleBase
{
    protected override int Destroy(nint value) => NvJpeg.nvjpegDecodeParamsDestroy(value);
}

/// <summary><c>nvjpegBufferPinned_t</c>: pinned staging memory a decoupled state uses for its Huffman output.</summary>
internal sealed class NvJpegPinnedBufferHandle : NvJpegHandleBase
{
    protected override int Destroy(nint value) => NvJpeg.nvjpegBufferPinnedDestroy(value);
}

/// <summary><c>nvjpegBufferDevice_t</c>: device memory a decoupled state uses for coefficients.</summary>
internal sealed class NvJpegDeviceBufferHandle : NvJpegHandleBase
{
    protected override int Destroy(nint value) => NvJpeg.nvjpegBufferDeviceDestroy(value);
}
