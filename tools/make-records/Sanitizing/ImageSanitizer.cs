using System.Runtime.InteropServices;
using Loader.Augment;
using Loader.Augment.Jpeg;
using Loader.Records.Jpeg;
using SkiaSharp;

namespace Loader.Tools.MakeRecords.Sanitizing;

/// <summary>
/// Decides, by content and not by file name, what becomes of each input. Baseline and progressive JPEGs the
/// loader's decoders take as they are pass through byte for byte (only their headers are parsed). CMYK/YCCK,
/// arithmetic-coded, lossless and 12-bit JPEGs, JPEGs with an EXIF rotation when <c>--apply-exif-orientation</c>
/// asks for it (stored byte for byte otherwise), anything over <c>--max-side</c>, and
/// other formats SkiaSharp decodes (PNG, GIF, BMP, WebP) are decoded and re-encoded as upright RGB JPEG. Empty,
/// truncated, undecodable, non-image and oversized inputs are skipped with a reason. Thread-safe (stateless).
/// </summary>
internal sealed class ImageSanitizer(SanitizeOptions options)
{
    public SanitizeOptions Options { get; } = options;

    public SanitizedImage Sanitize(ReadOnlyMemory<byte> bytes)
    {
        SanitizedImage image = SanitizeContent(bytes);
        return Options.Restart.IsOff || image.Status == SanitizeStatus.Skipped ? image : AddRestartIntervals(image);
    }

    /// <summary>
    /// --restart-interval: the JPEG that would be stored, rewritten losslessly with restart markers (the same DCT
    /// coefficients, so the same pixels) and optimized Huffman tables, so the loader can decode only the intervals a
    /// crop covers. A passthrough JPEG becomes "transcoded"; a re-encoded one stays "reencoded". A JPEG libjpeg cannot
    /// read is skipped: the loader could not decode it either. One that reads but cannot be rewritten with the same
    /// pixels (a progressive file libjpeg decodes with block smoothing) is stored as it is, and the reason says so.
    /// </summary>
    private SanitizedImage AddRestartIntervals(SanitizedImage image)
    {
        byte[] transcoded;
        try
        {
            transcoded = RestartTranscoder.Transcode(image.Jpeg.Span, Options.Restart);
        }
        catch (ImageDecodeException e)
        {
            return SanitizedImage.Skip($"JPEG unreadable by libjpeg (adding restart intervals): {e.Message}");
        }
        catch (LossyTranscodeException e)
        {
            return image with { Reason = image.Reason is null ? e.Message : $"{image.Reason}; {e.Message}" };
        }

        return image.Status == SanitizeStatus.Written
            ? image with { Status = SanitizeStatus.Transcoded, Reason = $"restart intervals added ({Options.Restart}), same pixels", Jpeg = transcoded }
            : image with { Jpeg = transcoded };
    }

    private SanitizedImage SanitizeContent(ReadOnlyMemory<byte> bytes)
    {
        if (bytes.Length == 0)
        {
            return SanitizedImage.Skip("empty file");
        }

        if (JpegHeader.IsJpeg(bytes.Span))
        {
            return SanitizeJpeg(bytes);
        }

        return Reencode(bytes, orientation: null, why: null);
    }

    private SanitizedImage SanitizeJpeg(ReadOnlyMemory<byte> bytes)
    {
        if (!JpegHeader.TryParse(bytes.Span, out JpegInfo info, out string? problem))
        {
            return SanitizedImage.Skip($"JPEG {problem}");
        }

        if (info.Pixels > Options.MaxPixels)
        {
            return SanitizedImage.Skip($"too large: {info.Width}x{info.Height} exceeds --max-pixels {Options.MaxPixels}");
        }

        string? why = info switch
        {
            { Components: 4 } => info.AdobeTransform == 2 ? "CMYK JPEG (YCCK-coded)" : "CMYK JPEG",
            { Components: not (1 or 3) } => $"JPEG with {info.Components} components",
            { Precision: not 8 } => $"{info.Precision}-bit JPEG",
            { Lossless: true } => "lossless or hierarchical JPEG",
            { Arithmetic: true } => "arithmetic-coded JPEG",
            { Orientation: not 1 } when Options.ApplyExifOrientation => $"EXIF orientation {info.Orientation} applied",
            _ when ExceedsMaxSide(info.Width, info.Height) => $"downscaled to --max-side {Options.MaxSide}",
            _ => null,
        };
        if (why is null)
        {
            return new SanitizedImage(SanitizeStatus.Written, null, bytes, info.Width, info.Height, info.Components);
        }

        return Reencode(bytes, info.Orientation, why);
    }

    /// <summary>Decodes with SkiaSharp, applies the orientation and --max-side, encodes RGB JPEG.</summary>
    private SanitizedImage Reencode(ReadOnlyMemory<byte> bytes, int? orientation, string? why)
    {
        using var data = SKData.CreateCopy(bytes.Span);
        using var codec = SKCodec.Create(data);
        if (codec is null)
        {
            return SanitizedImage.Skip(why is null ? "not an image (content not recognized by any decoder)" : $"{why}: undecodable");
        }

        string format = codec.EncodedFormat.ToString().ToUpperInvariant();
        why ??= $"{format} re-encoded as JPEG";
        SKImageInfo stored = codec.Info;
        if ((long)stored.Width * stored.Height > Options.MaxPixels)
        {
            return SanitizedImage.Skip($"too large: {stored.Width}x{stored.Height} exceeds --max-pixels {Options.MaxPixels}");
        }

        if (stored.Width <= 0 || stored.Height <= 0)
        {
            return SanitizedImage.Skip($"{format}: empty image ({stored.Width}x{stored.Height})");
        }

        // Decode to 32-bit RGBA, alpha unpremultiplied: the JPEG keeps the colour and drops alpha, as PIL's convert('RGB').
        // When downscaling, let the decoder scale first (JPEG DCT scaling: 1/2, 1/4, 1/8), never below the target.
        SKSizeI decodeSize = new(stored.Width, stored.Height);
        if (ExceedsMaxSide(stored.Width, stored.Height))
        {
            float scale = (float)Options.MaxSide!.Value / Math.Max(stored.Width, stored.Height);
            SKSizeI scaled = codec.GetScaledDimensions(scale);
            if (Math.Max(scaled.Width, scaled.Height) >= Options.MaxSide.Value && scaled.Width > 0 && scaled.Height > 0)
            {
                decodeSize = scaled;
            }
        }

        var info = new SKImageInfo(decodeSize.Width, decodeSize.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        uint[] pixels = new uint[info.Width * info.Height];
        SKCodecResult result;
        unsafe
        {
            fixed (uint* p = pixels)
            {
                result = codec.GetPixels(info, (nint)p);
            }
        }

        if (result != SKCodecResult.Success)
        {
            string detail = result == SKCodecResult.IncompleteInput ? "truncated" : "undecodable";
            return SanitizedImage.Skip($"{format} {detail} (decoder: {result})");
        }

        int width = info.Width, height = info.Height;
        // The rotation is applied only when asked for, as PIL and torchvision leave it (a re-encode drops the tag).
        int turn = !Options.ApplyExifOrientation ? 1 : orientation ?? OrientationOf(codec.EncodedOrigin);
        if (turn != 1)
        {
            pixels = Orientation.Apply(pixels, ref width, ref height, turn);
        }

        using var bitmap = new SKBitmap();
        var upright = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        GCHandle pin = GCHandle.Alloc(pixels, GCHandleType.Pinned);
        try
        {
            bitmap.InstallPixels(upright, pin.AddrOfPinnedObject(), upright.RowBytes);
            SKBitmap source = bitmap;
            SKBitmap? scaled = null;
            try
            {
                if (ExceedsMaxSide(width, height))
                {
                    double scale = (double)Options.MaxSide!.Value / Math.Max(width, height);
                    int w = Math.Max(1, (int)Math.Round(width * scale)), h = Math.Max(1, (int)Math.Round(height * scale));
                    scaled = bitmap.Resize(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul),
                                           new SKSamplingOptions(SKCubicResampler.Mitchell));
                    source = scaled ?? throw new InvalidOperationException("SkiaSharp could not resize the image");
                    width = w;
                    height = h;
                }

                using SKPixmap pixmap = source.PeekPixels();
                using SKData? jpeg = pixmap.Encode(new SKJpegEncoderOptions(Options.Quality, SKJpegEncoderDownsample.Downsample420,
                                                                             SKJpegEncoderAlphaOption.Ignore));
                if (jpeg is null)
                {
                    return SanitizedImage.Skip($"{why}: JPEG encoding failed");
                }

                return new SanitizedImage(SanitizeStatus.Reencoded, why, jpeg.ToArray(), width, height, 3);
            }
            finally
            {
                scaled?.Dispose();
            }
        }
        finally
        {
            pin.Free();
        }
    }

    private bool ExceedsMaxSide(int width, int height) => Options.MaxSide is { } max && Math.Max(width, height) > max;

    private static int OrientationOf(SKEncodedOrigin origin) => origin switch
    {
        SKEncodedOrigin.TopRight => 2,
        SKEncodedOrigin.BottomRight => 3,
        SKEncodedOrigin.BottomLeft => 4,
        SKEncodedOrigin.LeftTop => 5,
        SKEncodedOrigin.RightTop => 6,
        SKEncodedOrigin.RightBottom => 7,
        SKEncodedOrigin.LeftBottom => 8,
        _ => 1,
    };
}
