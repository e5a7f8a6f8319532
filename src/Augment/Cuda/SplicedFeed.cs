using Loader.Augment.Jpeg;

namespace Loader.Augment.Cuda;

/// <summary>What nvJPEG is given for one sample: the bytes, and the window of them to decode (in those bytes' pixels).</summary>
/// <param name="Jpeg">The sample's JPEG, or the sub-JPEG of the restart intervals that cover its region.</param>
/// <param name="Window">The region to decode, in the coordinates of <paramref name="Jpeg"/>'s image.</param>
/// <param name="Width">Width of <paramref name="Jpeg"/>'s image.</param>
/// <param name="Height">Height of <paramref name="Jpeg"/>'s image.</param>
/// <param name="Spliced">True when <paramref name="Jpeg"/> is a sub-JPEG.</param>
internal readonly record struct NvJpegInput(ReadOnlyMemory<byte> Jpeg, CropWindow Window, int Width, int Height, bool Spliced)
{
    /// <summary>True when the window is the whole image (nvJPEG is then asked for no region of interest).</summary>
    public bool Whole => Window == new CropWindow(0, 0, Width, Height);
}

/// <summary>
/// Crop-proportional decoding on the GPU: for each sample whose region is less than its image and whose JPEG has
/// usable restart intervals (make-records <c>--restart-interval</c>), nvJPEG is given the sub-JPEG of just the
/// intervals that cover the region (<see cref="JpegSplicer"/> at scale 8: nvJPEG decodes source pixels), with the
/// region moved into the sub-image; the hardware engine, which Huffman-decodes every MCU it is given, then decodes
/// about the crop's share of the image. Other samples go as they are. The same splicer the CPU path uses, so the same
/// JPEGs splice on both. One splicer per sample of a batch, each owning its output, so every sub-JPEG stays valid
/// until the batch's decode has read it; they are reused batch after batch (no allocation once warm). Host code
/// only: tested without a GPU by decoding what it feeds on the CPU.
/// </summary>
internal sealed class SplicedFeed(bool splice = true)
{
    private JpegSplicer[] _splicers = [];
    private SpliceStatistics _statistics;

    /// <summary>False: every sample goes as it is (still counted), as with <see cref="GpuDecodeOptions.SpliceRestartIntervals"/> off.</summary>
    public bool Splices { get; } = splice;

    /// <summary>Counts since the last <see cref="TakeStatistics"/>: samples prepared, spliced, their entropy-coded bytes.</summary>
    public SpliceStatistics TakeStatistics()
    {
        var taken = _statistics;
        _statistics = default;
        return taken;
    }

    /// <summary>
    /// What nvJPEG decodes for sample <paramref name="sample"/> of the batch (0 to the batch size - 1): the region
    /// <paramref name="region"/> of the <paramref name="width"/> x <paramref name="height"/> image in
    /// <paramref name="jpeg"/>. The returned bytes stay valid until this method is called again for the same sample.
    /// </summary>
    /// <exception cref="ImageDecodeException">The restart markers the region needs are missing, out of order or
    /// truncated: the file is corrupt (the caller sends the sample to the CPU path, which decodes it on its own terms
    /// and reports it where it too reads the broken interval).</exception>
    public NvJpegInput Prepare(int sample, ReadOnlyMemory<byte> jpeg, CropWindow region, int width, int height)
    {
        _statistics.Samples++;
        var asItIs = new NvJpegInput(jpeg, region, width, height, Spliced: false);
        if (!Splices || asItIs.Whole)
        {
            return asItIs;
        }

        if (sample >= _splicers.Length)
        {
            var grown = new JpegSplicer[Math.Max(sample + 1, _splicers.Length * 2)];
            _splicers.CopyTo(grown, 0);
            for (var i = _splicers.Length; i < grown.Length; i++)
            {
                grown[i] = new JpegSplicer();
            }

            _splicers = grown;
        }

        var splicer = _splicers[sample];
        if (!splicer.TrySplice(jpeg.Span, 8, region.X, region.Y, region.Width, region.Height, out var splice))
        {
            return asItIs;
        }

        _statistics.SplicedSamples++;
        _statistics.SplicedEntropyBytes += splice.EntropyBytes;
        _statistics.SplicedSourceEntropyBytes += splice.SourceEntropyBytes;
        var window = new CropWindow(region.X - splice.OriginX, region.Y - splice.OriginY, region.Width, region.Height);
        return new NvJpegInput(splicer.OutputMemory, window, splice.ScaledWidth, splice.ScaledHeight, Spliced: true);
    }
}
