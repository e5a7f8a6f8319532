using System.Text;
using Loader.Augment.Interop;

namespace Loader.Augment.Jpeg;

/// <summary>
/// Lossless restart-interval transcoding, what <c>jpegtran -optimize -restart N -copy all</c> does: the JPEG's quantized
/// DCT coefficients are written again unchanged as a baseline JPEG with restart markers and optimized Huffman tables,
/// so every pixel decodes as before (a progressive input becomes baseline the same way). Metadata (EXIF, ICC, XMP,
/// comments: APPn and COM segments) is left out unless asked for, as <c>jpegtran -copy none</c> does: no decoder reads
/// it to produce pixels, and it is what makes the output smaller than the input (measured on the shared ImageNet
/// sample, 2026-12-01, auto: 1.008x the original bytes with metadata kept; see the README for without). With restart markers the
/// loader can decode just the intervals a crop covers (<see cref="JpegSplicer"/>). Thread-safe (each call has its own
/// libjpeg objects); not a hot path.
/// </summary>
public static class RestartTranscoder
{
    private const int MessageCapacity = 256;

    /// <summary>
    /// The interval (in MCUs) a mode gives for a frame whose rows are <paramref name="mcuColumns"/> MCUs wide. Every
    /// choice divides the row, so intervals tile the image into rectangles the splicer can cut out.
    /// <para>
    /// <c>auto</c>: the divisor of the row between 4 and 16 MCUs closest to 8, else one interval per row. Why, from
    /// real ImageNet images (jpegtran -optimize, 60 images, 2026-12-01; sizes against the original files): a marker
    /// every MCU row gave 0.975x, every 8 MCUs 0.984x, every 4 MCUs 0.993x, every 2 MCUs 1.011x. Eight MCUs (128
    /// pixels at 4:2:0) cut a 500-pixel row into four pieces, enough for a crop to skip columns as well as rows, and
    /// still come out smaller than the original; below 4 the markers cost more than optimized tables win back (the
    /// shards would grow), and above 16 the pieces are so wide that a crop rarely skips one, so a row is as good.
    /// </para>
    /// </summary>
    public static int IntervalFor(RestartMode mode, int mcuColumns)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mcuColumns, 1);
        switch (mode.Kind)
        {
            case RestartModeKind.Rows:
                return Math.Min(mcuColumns, 65535);
            case RestartModeKind.Mcus:
                for (var n = Math.Min(mode.Mcus, mcuColumns); n > 1; n--)
                {
                    if (mcuColumns % n == 0)
                    {
                        return n;
                    }
                }

                return 1;
            case RestartModeKind.Auto:
                var best = 0;
                for (var n = 4; n <= 16 && n <= mcuColumns; n++)
                {
                    if (mcuColumns % n == 0 && (best == 0 || Math.Abs(n - 8) <= Math.Abs(best - 8)))
                    {
                        best = n;
                    }
                }

                return best > 0 ? best : Math.Min(mcuColumns, 65535);
            default:
                throw new ArgumentException("Restart mode off has no interval.", nameof(mode));
        }
    }

    /// <summary>
    /// The MCUs per row of the baseline JPEG the transcoder writes for this source: its MCU is 8 x the frame's
    /// largest sampling factors (one 8x8 block for grayscale), whatever the source's scans were.
    /// </summary>
    public static int OutputMcuColumns(in JpegFrame frame)
    {
        var mcuWidth = frame.Components == 1 ? 8 : 8 * frame.MaxHorizontalSampling;
        return (frame.Width + mcuWidth - 1) / mcuWidth;
    }

    /// <summary>Transcodes with the interval <paramref name="mode"/> gives for this image.</summary>
    /// <exception cref="ImageDecodeException">Not a JPEG libjpeg can read (corrupt, truncated, unsupported).</exception>
    /// <exception cref="LossyTranscodeException">A JPEG that reads but cannot be rewritten with the same pixels.</exception>
    public static byte[] Transcode(ReadOnlySpan<byte> jpeg, RestartMode mode, bool keepMetadata = false)
    {
        if (mode.IsOff)
        {
            throw new ArgumentException("Restart mode off: nothing to transcode.", nameof(mode));
        }

        if (!JpegFrame.TryRead(jpeg, out var frame))
        {
            throw new ImageDecodeException("Not a JPEG with a frame and a scan: cannot add restart intervals.");
        }

        return Transcode(jpeg, IntervalFor(mode, OutputMcuColumns(frame)), keepMetadata);
    }

    /// <summary>Transcodes with a restart marker every <paramref name="restartMcus"/> MCUs.</summary>
    /// <exception cref="ImageDecodeException">Not a JPEG libjpeg can read (corrupt, truncated, unsupported).</exception>
    /// <exception cref="LossyTranscodeException">A JPEG that reads but cannot be rewritten with the same pixels.</exception>
    public static unsafe byte[] Transcode(ReadOnlySpan<byte> jpeg, int restartMcus, bool keepMetadata = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(restartMcus, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(restartMcus, 65535);
        if (jpeg.IsEmpty)
        {
            throw new ImageDecodeException("The image is empty (0 bytes).");
        }

        Span<byte> message = stackalloc byte[MessageCapacity];
        message.Clear();
        int rc;
        nint output;
        nuint outputSize;
        fixed (byte* data = jpeg)
        fixed (byte* text = message)
        {
            rc = LibLoaderJpeg.Transcode(data, (nuint)jpeg.Length, restartMcus, keepMetadata ? 1 : 0, out output, out outputSize, text, MessageCapacity);
        }

        try
        {
            if (rc != LibLoaderJpeg.Ok)
            {
                var length = message.IndexOf((byte)0);
                var why = Encoding.UTF8.GetString(length < 0 ? message : message[..length]);
                throw rc switch
                {
                    LibLoaderJpeg.ErrorMemory => new OutOfMemoryException($"libjpeg ran out of memory adding restart intervals: {why}"),
                    LibLoaderJpeg.ErrorNotLossless => new LossyTranscodeException($"Restart intervals not added: {why}"),
                    _ => new ImageDecodeException($"Cannot add restart intervals: {why}"),
                };
            }

            return new ReadOnlySpan<byte>((void*)output, checked((int)outputSize)).ToArray();
        }
        finally
        {
            LibLoaderJpeg.Free(output);
        }
    }
}
