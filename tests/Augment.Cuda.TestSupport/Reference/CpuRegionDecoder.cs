using Loader.Augment.Cpu;
using Loader.Augment.Interop;

namespace Loader.Augment.Cuda.Reference;

/// <summary>
/// Decodes exactly the pixels the CPU path decodes for a plan (same DCT scale, same region, same libjpeg-turbo) and
/// describes them as the kernel's <see cref="GpuSampleParams"/>. Feeding these pixels to the GPU kernel (or to
/// <see cref="KernelReference"/>) and comparing with <see cref="CpuSampleDecoder.Process(ReadOnlySpan{byte}, in SamplePlan, OutputSpec, Span{byte})"/> isolates the resize
/// kernel from decoder differences: that is the "GPU kernel vs CPU path, same plans, within 2/255" check.
/// </summary>
internal sealed class CpuRegionDecoder : IDisposable
{
    private readonly JpegDecompressorHandle _decompressor = LibLoaderJpeg.Create();
    private readonly byte[] _message = new byte[256];
    private readonly AxisCoefficients _horizontal = new();
    private readonly AxisCoefficients _vertical = new();

    /// <summary>Returns the decoded region (RGB interleaved, pitch = 3 * width) and the kernel parameters for it (Source left 0).</summary>
    public unsafe (byte[] Pixels, GpuSampleParams Parameters) Decode(ReadOnlySpan<byte> jpeg, in SamplePlan plan)
    {
        int width, height, rc;
        fixed (byte* data = jpeg)
        fixed (byte* message = _message)
        {
            rc = LibLoaderJpeg.ReadHeader(_decompressor, data, (nuint)jpeg.Length, out width, out height, out _, message, _message.Length);
        }

        if (rc != LibLoaderJpeg.Ok)
        {
            throw new ImageDecodeException("libjpeg could not read the header: " + System.Text.Encoding.UTF8.GetString(_message).TrimEnd('\0'));
        }

        // The CPU path decodes exactly the rows and columns its filter taps reach (libjpeg's chroma upsampling at a
        // region's edge depends on where the region starts, so the same region is needed for identical pixels). The
        // kernel clamps its taps to this region, which equals clamping them to the plan's clip range: no tap of the
        // clip range lies outside it.
        var geometry = ResampleGeometry.Create(plan, width, height);
        geometry.Prepare(_horizontal, _vertical, plan.OutputWidth, plan.OutputHeight);
        var region = new CropWindow(_horizontal.MinIndex, _vertical.MinIndex,
            _horizontal.MaxIndexExclusive - _horizontal.MinIndex, _vertical.MaxIndexExclusive - _vertical.MinIndex);
        var pitch = region.Width * 3;
        // libjpeg crops at iMCU boundaries: rows may start up to MaxLeftPad pixels left of region.X (pixel region.X
        // lands at leftPad * 3 in each row), so decode with room for that and compact the rows afterwards.
        var stride = (region.Width + LibLoaderJpeg.MaxLeftPad) * 3;
        var decoded = new byte[stride * region.Height];
        int leftPad;
        fixed (byte* data = jpeg)
        fixed (byte* output = decoded)
        fixed (byte* message = _message)
        {
            rc = LibLoaderJpeg.DecodeRegion(_decompressor, data, (nuint)jpeg.Length, 0, geometry.ScaleNumerator, region.X, region.Y, region.Width, region.Height,
                output, (nuint)stride, (nuint)decoded.Length, out leftPad, out _, out _, message, _message.Length);
        }

        if (rc != LibLoaderJpeg.Ok)
        {
            throw new ImageDecodeException("libjpeg could not decode the region: " + System.Text.Encoding.UTF8.GetString(_message).TrimEnd('\0'));
        }

        var pixels = new byte[pitch * region.Height];
        for (var row = 0; row < region.Height; row++)
        {
            decoded.AsSpan((row * stride) + (leftPad * 3), pitch).CopyTo(pixels.AsSpan(row * pitch, pitch));
        }

        return (pixels, PlanPacker.ForBox(geometry.Box, region, plan.Flip, pixels: 0, pitch));
    }

    /// <summary>
    /// The pixels of <paramref name="window"/> of the image at full scale (RGB interleaved, pitch = 3 * width), by
    /// libjpeg-turbo's region decode; <paramref name="strict"/>: a corrupt-data warning fails the decode.
    /// </summary>
    public unsafe byte[] DecodeWindow(ReadOnlySpan<byte> jpeg, CropWindow window, bool strict = false)
    {
        var stride = (window.Width + LibLoaderJpeg.MaxLeftPad) * 3;
        var decoded = new byte[stride * window.Height];
        int leftPad, rc;
        fixed (byte* data = jpeg)
        fixed (byte* output = decoded)
        fixed (byte* message = _message)
        {
            rc = LibLoaderJpeg.DecodeRegion(_decompressor, data, (nuint)jpeg.Length, strict ? 1 : 0, 8, window.X, window.Y, window.Width,
                window.Height, output, (nuint)stride, (nuint)decoded.Length, out leftPad, out _, out _, message, _message.Length);
        }

        if (rc != LibLoaderJpeg.Ok)
        {
            throw new ImageDecodeException("libjpeg could not decode the region: " + System.Text.Encoding.UTF8.GetString(_message).TrimEnd('\0'));
        }

        var pitch = window.Width * 3;
        var pixels = new byte[pitch * window.Height];
        for (var row = 0; row < window.Height; row++)
        {
            decoded.AsSpan((row * stride) + (leftPad * 3), pitch).CopyTo(pixels.AsSpan(row * pitch, pitch));
        }

        return pixels;
    }

    public void Dispose() => _decompressor.Dispose();
}
