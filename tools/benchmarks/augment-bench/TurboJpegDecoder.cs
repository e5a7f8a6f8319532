using Loader.Tools.AugmentBench.Interop;

namespace Loader.Tools.AugmentBench;

/// <summary>Full-image RGB decode with TurboJPEG into a reused buffer: the baseline every CPU loader pays.</summary>
internal sealed class TurboJpegDecoder : IDisposable
{
    private readonly nint _handle;
    private byte[] _pixels = [];

    public TurboJpegDecoder()
    {
        _handle = TurboJpeg.InitDecompress();
        if (_handle == 0)
        {
            throw new InvalidOperationException("tjInitDecompress failed.");
        }
    }

    public unsafe void Decode(ReadOnlySpan<byte> jpeg)
    {
        fixed (byte* data = jpeg)
        {
            if (TurboJpeg.DecompressHeader3(_handle, data, (nuint)jpeg.Length, out var width, out var height, out _, out _) != 0)
            {
                throw new InvalidOperationException($"tjDecompressHeader3: {TurboJpeg.LastError(_handle)}");
            }

            var size = width * height * 3;
            if (_pixels.Length < size)
            {
                _pixels = new byte[size];
            }

            fixed (byte* output = _pixels)
            {
                if (TurboJpeg.Decompress2(_handle, data, (nuint)jpeg.Length, output, width, width * 3, height, TurboJpeg.PixelFormatRgb, 0) != 0)
                {
                    throw new InvalidOperationException($"tjDecompress2: {TurboJpeg.LastError(_handle)}");
                }
            }
        }
    }

    public void Dispose() => TurboJpeg.Destroy(_handle);
}
