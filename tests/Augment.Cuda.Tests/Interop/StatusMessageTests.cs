using System.Runtime.InteropServices;
using Loader.Augment.Cuda.Interop;

namespace Loader.Augment.Cuda.Tests.Interop;

public sealed class StatusMessageTests
{
    [Theory]
    [InlineData(3, "NVJPEG_STATUS_BAD_JPEG")]
    [InlineData(4, "NVJPEG_STATUS_JPEG_NOT_SUPPORTED")]
    [InlineData(7, "NVJPEG_STATUS_ARCH_MISMATCH")]
    [InlineData(10, "NVJPEG_STATUS_INCOMPLETE_BITSTREAM")]
    [InlineData(42, "unknown nvjpegStatus_t 42")]
    public void NvJpegDescribe_NamesTheStatus(int status, string expected) =>
        Assert.StartsWith(expected, NvJpeg.Describe(status));

    [Fact]
    public void NvJpegCheck_ThrowsWithLibraryCallAndMeaning()
    {
        var e = Assert.Throws<CudaException>(() => NvJpeg.Check(3, "NvJpeg.nvjpegDecodeJpegHost(_library.Pointer, decoder)"));
        Assert.Equal("nvJPEG: nvjpegDecodeJpegHost failed: NVJPEG_STATUS_BAD_JPEG: the JPEG stream is corrupt (status 3)", e.Message);
        Assert.Equal("nvjpegDecodeJpegHost", e.Function);
        Assert.Equal(3, e.Status);
    }

    [Fact]
    public void NvJpegCheck_Success_DoesNotThrow() => NvJpeg.Check(0);

    [Theory]
    [InlineData("CudaDriver.cuMemAlloc(out var p, (nuint)bytes)", "cuMemAlloc")]
    [InlineData("NvJpeg.nvjpegCreateEx(NvJpeg.NVJPEG_BACKEND_DEFAULT, null, null, 0, out library)", "nvjpegCreateEx")]
    [InlineData("cuInit", "cuInit")]
    public void CallName_IsTheNativeFunction(string expression, string expected) =>
        Assert.Equal(expected, CudaDriver.CallName(expression));

    [Fact]
    public void CudaDriverDescribe_UsesTheDriverText_OrTheNumberWithoutADriver()
    {
        var text = CudaDriver.Describe(2);
        if (NativeLibrary.TryLoad("libcuda.so.1", out var handle))
        {
            NativeLibrary.Free(handle);
            Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY: out of memory", text);
        }
        else
        {
            Assert.Equal("CUresult 2", text);
        }
    }

    [Fact]
    public void CudaDriverCheck_ThrowsWithTheCallName()
    {
        var e = Assert.Throws<CudaException>(() => CudaDriver.Check(2, "CudaDriver.cuMemAlloc(out var p, n)"));
        Assert.StartsWith("CUDA driver: cuMemAlloc failed: ", e.Message);
        Assert.EndsWith("(status 2)", e.Message);
    }
}
