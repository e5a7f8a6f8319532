using Microsoft.Win32.SafeHandles;

namespace Loader.Augment.Interop;

/// <summary>Owns one native libjpeg decompressor (a <c>jpeg_decompress_struct</c> and its scanline buffer).</summary>
internal sealed class JpegDecompressorHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public JpegDecompressorHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        LibLoaderJpeg.Destroy(handle);
        return true;
    }
}
