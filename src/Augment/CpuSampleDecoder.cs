using System.Runtime.Intrinsics;
using System.Text;
using Loader.Augment.Cpu;
using Loader.Augment.Interop;
using Loader.Augment.Jpeg;

namespace Loader.Augment;

/// <summary>
/// Turns a JPEG and its <see cref="SamplePlan"/> into one finished sample in a batch slot: decodes only the region the
/// crop needs, at the smallest DCT scale (1/8 steps) that still leaves at least the output resolution, resizes it with
/// PIL's antialiased bilinear filter, flips, normalizes and converts on the way out. One per worker thread: it owns a
/// native decompressor and scratch buffers, reused from sample to sample (no allocation once warm).
/// <para>
/// A JPEG with restart intervals that tile the image (what <c>make-records --restart-interval</c> writes) is decoded
/// through <see cref="JpegSplicer"/>: only the intervals that cover the region go to libjpeg, so Huffman decoding is
/// proportional to the crop; the pixels are the same as without it. Others take libjpeg's region decode as they are.
/// </para>
/// </summary>
public sealed class CpuSampleDecoder : IDisposable
{
    private const int MessageCapacity = 256;
    private const int RowsInFlight = 2;

    private readonly JpegDecompressorHandle _decompressor;
    private readonly AxisCoefficients _horizontal = new();
    private readonly AxisCoefficients _vertical = new();
    private readonly BlockResampler _block = new();
    private readonly byte[] _message = new byte[MessageCapacity];
    private readonly JpegSplicer _splicer = new();
    private SpliceStatistics _statistics;
    private byte[] _region = [];
    private float[] _columnSums = [];
    private float[] _outputRow = [];

    public CpuSampleDecoder()
    {
        _decompressor = LibLoaderJpeg.Create();
        if (_decompressor.IsInvalid)
        {
            throw new OutOfMemoryException("libloader_jpeg could not allocate a JPEG decompressor.");
        }
    }

    /// <summary>
    /// Decode through <see cref="JpegSplicer"/> when the JPEG's restart intervals allow it (default true). Off, every
    /// JPEG takes libjpeg's region decode (for comparisons and benchmarks; the pixels are the same).
    /// </summary>
    public bool SpliceRestartIntervals { get; set; } = true;

    /// <summary>
    /// How the shim entropy-decodes JPEGs with restart intervals (<see cref="LibLoaderJpeg.SetFastEntropy"/>; the
    /// default is <see cref="LibLoaderJpeg.EntropyPaired"/>). Internal for the benchmark, which times the modes.
    /// </summary>
    internal int EntropyMode
    {
        set => LibLoaderJpeg.SetFastEntropy(_decompressor, value);
    }

    /// <summary>
    /// Write float32 output past the caches (non-temporal stores, where aligned; default false): for destinations that
    /// nobody reads again soon, such as a loader's batch slots (see <see cref="Cpu.BlockResampler.StreamingStores"/>).
    /// The values written are the same.
    /// </summary>
    public bool StreamingStores
    {
        get => _block.StreamingStores;
        set => _block.StreamingStores = value;
    }

    /// <summary>Samples decoded so far, how many took the spliced path and how many entropy-coded bytes they read.</summary>
    public SpliceStatistics Statistics => _statistics;

    /// <summary>Reads the size and component count from the JPEG header.</summary>
    public unsafe ImageInfo ReadHeader(ReadOnlySpan<byte> jpeg)
    {
        ThrowIfEmpty(jpeg);
        int width, height, components, rc;
        fixed (byte* data = jpeg)
        fixed (byte* message = _message)
        {
            rc = LibLoaderJpeg.ReadHeader(_decompressor, data, (nuint)jpeg.Length, out width, out height, out components, message, MessageCapacity);
        }

        ThrowIfFailed(rc, "reading the JPEG header");
        return new ImageInfo(width, height, components);
    }

    /// <summary>Decodes, crops, resizes, flips, normalizes and writes one sample into <paramref name="destination"/>.</summary>
    public void Process(ReadOnlySpan<byte> jpeg, in SamplePlan plan, OutputSpec spec, Span<byte> destination) =>
        Process(jpeg, ReadHeader(jpeg), plan, spec, destination);

    /// <summary>
    /// <see cref="Process(ReadOnlySpan{byte}, in SamplePlan, OutputSpec, Span{byte})"/> for a caller that has read the
    /// header already (the loader does, to plan the sample): <paramref name="info"/> is <see cref="ReadHeader"/> of
    /// these bytes, so the header is not parsed a second time before the decode.
    /// </summary>
    public void Process(ReadOnlySpan<byte> jpeg, ImageInfo info, in SamplePlan plan, OutputSpec spec, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (plan.OutputWidth != spec.Width || plan.OutputHeight != spec.Height)
        {
            throw new ArgumentException($"The plan's output size {plan.OutputWidth}x{plan.OutputHeight} differs from the output spec's {spec.Width}x{spec.Height}.", nameof(plan));
        }

        if (spec.Type == PixelType.UInt8 && spec.Layout != PixelLayout.Nhwc)
        {
            throw new ArgumentException("UInt8 output is HWC only.", nameof(spec));
        }

        if (destination.Length < spec.BytesPerSample)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; one sample needs {spec.BytesPerSample}.", nameof(destination));
        }

        var (stride, rowBytes) = DecodeRegion(jpeg, info, plan, spec);
        Resample(spec, plan.Flip, stride, rowBytes, destination);
    }

    /// <summary>
    /// The first half of <see cref="Process(ReadOnlySpan{byte}, ImageInfo, in SamplePlan, OutputSpec, Span{byte})"/>: plans the resampling, then decodes exactly the rows and columns its
    /// filters read into the region buffer, and aligns the filters with where libjpeg put them. Returns the region's
    /// row stride and the bytes per row that hold pixels. (Internal for the benchmark, which times decoding alone.)
    /// </summary>
    internal (int Stride, int RowBytes) DecodeRegion(ReadOnlySpan<byte> jpeg, in SamplePlan plan, OutputSpec spec) =>
        DecodeRegion(jpeg, ReadHeader(jpeg), plan, spec);

    private (int Stride, int RowBytes) DecodeRegion(ReadOnlySpan<byte> jpeg, ImageInfo info, in SamplePlan plan, OutputSpec spec)
    {
        var geometry = ResampleGeometry.Create(plan, info.Width, info.Height);
        geometry.Prepare(_horizontal, _vertical, spec.Width, spec.Height);

        var regionX = _horizontal.MinIndex;
        var regionY = _vertical.MinIndex;
        var regionWidth = _horizontal.MaxIndexExclusive - regionX;
        var regionHeight = _vertical.MaxIndexExclusive - regionY;

        // Room for libjpeg's iMCU-aligned rows, so it writes them in place.
        var stride = (regionWidth + LibLoaderJpeg.MaxLeftPad) * 3;
        var leftPad = DecodeRegion(jpeg, geometry.ScaleNumerator, regionX, regionY, regionWidth, regionHeight, stride,
            geometry.ScaledWidth, geometry.ScaledHeight);
        _horizontal.Rebase(regionX - leftPad);
        _vertical.Rebase(regionY);
        return (stride, (leftPad + regionWidth) * 3);
    }

    public void Dispose() => _decompressor.Dispose();

    /// <summary>
    /// Decodes the rectangle [x, x + width) x [y, y + height) of the image scaled by scaleNumerator/8 into the region
    /// buffer (rows <paramref name="stride"/> bytes apart) and returns libjpeg's left pad: spliced when the restart
    /// intervals allow, otherwise libjpeg's region decode of the whole file. (Internal for the tests.)
    /// </summary>
    internal int DecodeRegion(ReadOnlySpan<byte> jpeg, int scaleNumerator, int x, int y, int width, int height, int stride,
        int expectedWidth, int expectedHeight)
    {
        _statistics.Samples++;
        if (SpliceRestartIntervals && _splicer.TrySplice(jpeg, scaleNumerator, x, y, width, height, out var splice))
        {
            _statistics.SplicedSamples++;
            _statistics.SplicedEntropyBytes += splice.EntropyBytes;
            _statistics.SplicedSourceEntropyBytes += splice.SourceEntropyBytes;
            return DecodeNative(_splicer.Output, strict: true, scaleNumerator, x - splice.OriginX, y - splice.OriginY, width, height, stride,
                splice.ScaledWidth, splice.ScaledHeight);
        }

        return DecodeNative(jpeg, strict: false, scaleNumerator, x, y, width, height, stride, expectedWidth, expectedHeight);
    }

    private unsafe int DecodeNative(ReadOnlySpan<byte> jpeg, bool strict, int scaleNumerator, int x, int y, int width, int height,
        int stride, int expectedWidth, int expectedHeight)
    {
        var bytes = stride * height;
        if (_region.Length < bytes)
        {
            _region = new byte[bytes + (bytes >> 2)];
        }

        int rc, leftPad, scaledWidth, scaledHeight;
        fixed (byte* data = jpeg)
        fixed (byte* output = _region)
        fixed (byte* message = _message)
        {
            rc = LibLoaderJpeg.DecodeRegion(_decompressor, data, (nuint)jpeg.Length, strict ? 1 : 0, scaleNumerator, x, y, width, height,
                output, (nuint)stride, (nuint)_region.Length, out leftPad, out scaledWidth, out scaledHeight, message, MessageCapacity);
        }

        ThrowIfFailed(rc, strict ? "decoding the restart intervals the crop covers" : "decoding the JPEG");
        if (scaledWidth != expectedWidth || scaledHeight != expectedHeight)
        {
            throw new ImageDecodeException($"libjpeg scaled the image to {scaledWidth}x{scaledHeight}, expected {expectedWidth}x{expectedHeight}.");
        }

        return leftPad;
    }

    /// <summary>
    /// The second half of <see cref="Process(ReadOnlySpan{byte}, ImageInfo, in SamplePlan, OutputSpec, Span{byte})"/>: resizes the region <see cref="DecodeRegion(ReadOnlySpan{byte}, in SamplePlan, OutputSpec)"/>
    /// left, flips, normalizes and stores. (Internal for the benchmark, which times it alone.)
    /// </summary>
    internal void Resample(OutputSpec spec, bool flip, int stride, int rowBytes, Span<byte> destination)
    {
        // Float32 CHW (the training layout) on AVX2 machines: eight rows at a time through the block resampler. Other
        // outputs, other machines and the rows after the last whole block: two rows in flight, the horizontal pass
        // sharing its coefficient loads between them (four measured no faster).
        var columnFloats = rowBytes + HorizontalResampler.SourceSlack(_horizontal);
        if (_columnSums.Length < RowsInFlight * columnFloats)
        {
            _columnSums = new float[RowsInFlight * (columnFloats + (columnFloats >> 2))];
        }

        var sumsStride = _columnSums.Length / RowsInFlight;
        var rowFloats = spec.Width * 3;
        var outputFloats = rowFloats + HorizontalResampler.DestinationPadding;
        if (_outputRow.Length < RowsInFlight * outputFloats)
        {
            _outputRow = new float[RowsInFlight * outputFloats];
        }

        var (scale, bias) = Normalization(spec);
        var sums = _columnSums.AsSpan();
        var outputs = _outputRow.AsSpan();

        // The slack past the row is read with zero weights: it must hold finite numbers (0 * NaN is NaN). The columns
        // before the first one the filters read (libjpeg's iMCU padding) are never read, so the vertical pass skips them.
        for (var k = 0; k < RowsInFlight; k++)
        {
            sums.Slice((k * sumsStride) + rowBytes, columnFloats - rowBytes).Clear();
        }

        var skip = _horizontal.MinIndex * 3;
        var y = 0;
        if (BlockResampler.IsSupported(spec))
        {
            _block.Begin(rowBytes, _horizontal, spec.Width);
            for (; y + BlockResampler.Rows <= spec.Height; y += BlockResampler.Rows)
            {
                _block.Run(_region, stride, skip, rowBytes, _vertical, _horizontal, y, flip, scale, bias, spec, destination);
            }

            _block.FenceStreamingStores();
        }

        for (; y + RowsInFlight <= spec.Height; y += RowsInFlight)
        {
            for (var k = 0; k < RowsInFlight; k++)
            {
                VerticalRow(y + k, stride, skip, sums.Slice((k * sumsStride) + skip, rowBytes - skip));
            }

            HorizontalResampler.RunPair(sums.Slice(0, columnFloats), sums.Slice(sumsStride, columnFloats), _horizontal, flip, scale, bias,
                outputs.Slice(0, outputFloats), outputs.Slice(outputFloats, outputFloats));
            for (var k = 0; k < RowsInFlight; k++)
            {
                PixelStore.StoreRow(outputs.Slice(k * outputFloats, rowFloats), y + k, spec, destination);
            }
        }

        for (; y < spec.Height; y++)
        {
            VerticalRow(y, stride, skip, sums.Slice(skip, rowBytes - skip));
            HorizontalResampler.Run(sums.Slice(0, columnFloats), _horizontal, flip, scale, bias, outputs.Slice(0, outputFloats));
            PixelStore.StoreRow(outputs.Slice(0, rowFloats), y, spec, destination);
        }
    }

    /// <summary>The vertical pass for output row <paramref name="y"/>, over the region's columns from byte <paramref name="skip"/> on.</summary>
    private void VerticalRow(int y, int stride, int skip, Span<float> sums)
    {
        var tapStride = _vertical.TapStride;
        var weights = _vertical.Weights.Slice(y * tapStride, _vertical.Count[y]);
        VerticalResampler.Run(_region.AsSpan(skip), stride, _vertical.First[y], weights, sums);
    }

    /// <summary>value / 255 - mean) / std as one multiply-add per channel; UInt8 keeps 0..255.</summary>
    private static (Vector128<float> Scale, Vector128<float> Bias) Normalization(OutputSpec spec)
    {
        if (spec.Type == PixelType.UInt8)
        {
            return (Vector128.Create(1f), Vector128<float>.Zero);
        }

        var m = spec.Mean;
        var s = spec.Std;
        var scale = Vector128.Create(1f / (255f * s[0]), 1f / (255f * s[1]), 1f / (255f * s[2]), 0f);
        var bias = Vector128.Create(-m[0] / s[0], -m[1] / s[1], -m[2] / s[2], 0f);
        return (scale, bias);
    }

    private static void ThrowIfEmpty(ReadOnlySpan<byte> jpeg)
    {
        if (jpeg.IsEmpty)
        {
            throw new ImageDecodeException("The image is empty (0 bytes).");
        }
    }

    private void ThrowIfFailed(int rc, string what)
    {
        if (rc == LibLoaderJpeg.Ok)
        {
            return;
        }

        var length = Array.IndexOf(_message, (byte)0);
        var text = Encoding.UTF8.GetString(_message, 0, length < 0 ? _message.Length : length);
        throw rc switch
        {
            LibLoaderJpeg.ErrorMemory => new OutOfMemoryException($"libjpeg ran out of memory {what}: {text}"),
            // The shim checks the rectangle against the image libjpeg found, not the caller's code: when they disagree
            // the sample's bytes are to blame (a header that lies), so it is a bad sample, not a bug that ends the run.
            LibLoaderJpeg.ErrorArgument => new ImageDecodeException($"The JPEG does not fit its own plan ({what}): {text}"),
            _ => new ImageDecodeException($"Not a readable JPEG ({what}): {text}"),
        };
    }
}
