using Loader.Augment.Jpeg;
using Loader.Records.Jpeg;
using Loader.Records.Tests;
using Loader.Tools.MakeRecords.Sanitizing;
using SkiaSharp;

namespace Loader.Tools.MakeRecords.Tests.Sanitizing;

public class ImageSanitizerTests
{
    private readonly ImageSanitizer _sanitizer = new(new SanitizeOptions());

    [Fact]
    public void Sanitize_BaselineJpeg_PassesThroughByteForByte()
    {
        byte[] jpeg = TestImages.Jpeg(50, 40);
        SanitizedImage result = _sanitizer.Sanitize(jpeg);
        Assert.Equal(SanitizeStatus.Written, result.Status);
        Assert.Equal(jpeg, result.Jpeg.ToArray());
        Assert.Equal((50, 40, 3), (result.Width, result.Height, result.Channels));
    }

    [Fact]
    public void Sanitize_ProgressiveJpeg_PassesThroughByteForByte()
    {
        byte[] jpeg = File.ReadAllBytes(TestImages.Fixture("progressive.jpg"));
        SanitizedImage result = _sanitizer.Sanitize(jpeg);
        Assert.Equal(SanitizeStatus.Written, result.Status);
        Assert.Equal(jpeg, result.Jpeg.ToArray());
    }

    /// <summary>
    /// A progressive JPEG of its DC scan alone (legal): libjpeg decodes it with block smoothing, which a baseline
    /// transcode cannot ask for, so --restart-interval stores it as it is and says why, rather than change its pixels.
    /// </summary>
    [Fact]
    public void Sanitize_WithRestartIntervals_AProgressiveJpegLibjpegSmooths_IsStoredAsItIs()
    {
        byte[] jpeg = File.ReadAllBytes(TestImages.Fixture("progressive_dc_only_203x141.jpg"));
        var sanitizer = new ImageSanitizer(new SanitizeOptions { Restart = RestartMode.Auto });
        SanitizedImage result = sanitizer.Sanitize(jpeg);
        Assert.Equal(SanitizeStatus.Written, result.Status);
        Assert.Equal(jpeg, result.Jpeg.ToArray());
        Assert.Contains("transcoding would change its pixels", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Sanitize_GrayscaleJpeg_IsKeptAsIs()
    {
        byte[] jpeg = TestImages.Jpeg(32, 32, gray: true);
        SanitizedImage result = _sanitizer.Sanitize(jpeg);
        Assert.Equal(SanitizeStatus.Written, result.Status);
        Assert.Equal(1, result.Channels);
        Assert.Equal(jpeg, result.Jpeg.ToArray());
    }

    [Fact]
    public void Sanitize_CmykJpeg_IsReencodedAsRgbJpegWithTheSameColours()
    {
        // The fixture is a red-to-yellow gradient stored as CMYK (ImageMagick).
        SanitizedImage result = _sanitizer.Sanitize(File.ReadAllBytes(TestImages.Fixture("cmyk.jpg")));
        Assert.Equal(SanitizeStatus.Reencoded, result.Status);
        Assert.StartsWith("CMYK JPEG", result.Reason, StringComparison.Ordinal);
        Assert.True(JpegHeader.TryParse(result.Jpeg.Span, out JpegInfo info, out _));
        Assert.Equal((3, 48, 32), (info.Components, info.Width, info.Height));
        using SKBitmap bitmap = TestImages.Decode(result.Jpeg.Span);
        SKColor top = bitmap.GetPixel(24, 1);
        Assert.True(top.Red > 200 && top.Blue < 80, $"expected red, got {top}");
    }

    [Fact]
    public void Sanitize_PngNamedJpeg_IsDetectedByContentAndReencoded()
    {
        SanitizedImage result = _sanitizer.Sanitize(TestImages.Png(40, 30));
        Assert.Equal(SanitizeStatus.Reencoded, result.Status);
        Assert.Equal("PNG re-encoded as JPEG", result.Reason);
        Assert.True(JpegHeader.TryParse(result.Jpeg.Span, out JpegInfo info, out _));
        Assert.Equal((40, 30, 3), (info.Width, info.Height, info.Components));
    }

    [Fact]
    public void Sanitize_ExifOrientation6WithApplyExifOrientation_IsAppliedAndTheSizeSwapped()
    {
        // Left half red, right half blue, stored sideways with orientation 6 (display = rotate 90 clockwise).
        using var bitmap = new SKBitmap(new SKImageInfo(40, 20, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Red);
            using var blue = new SKPaint { Color = SKColors.Blue };
            canvas.DrawRect(20, 0, 20, 20, blue);
        }

        byte[] jpeg = bitmap.PeekPixels().Encode(new SKJpegEncoderOptions(95, SKJpegEncoderDownsample.Downsample444, SKJpegEncoderAlphaOption.Ignore))!.ToArray();
        SanitizedImage result = new ImageSanitizer(new SanitizeOptions(ApplyExifOrientation: true)).Sanitize(TestImages.WithExifOrientation(jpeg, 6, bigEndian: false));
        Assert.Equal(SanitizeStatus.Reencoded, result.Status);
        Assert.Equal((20, 40), (result.Width, result.Height));
        using SKBitmap upright = TestImages.Decode(result.Jpeg.Span);
        // Turned clockwise: the stored left (red) is now the top, the stored right (blue) the bottom.
        Assert.True(upright.GetPixel(10, 5).Red > 200, upright.GetPixel(10, 5).ToString());
        Assert.True(upright.GetPixel(10, 35).Blue > 200, upright.GetPixel(10, 35).ToString());
        Assert.True(JpegHeader.TryParse(result.Jpeg.Span, out JpegInfo info, out _));
        Assert.Equal(1, info.Orientation);
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("text")]
    [InlineData("truncated-jpeg")]
    [InlineData("truncated-png")]
    public void Sanitize_BrokenInputs_AreSkippedWithAReason(string kind)
    {
        byte[] jpeg = TestImages.Jpeg(64, 64);
        byte[] png = TestImages.Png(64, 64, seed: 5);
        byte[] bytes = kind switch
        {
            "empty" => [],
            "text" => "this is not an image at all"u8.ToArray(),
            "truncated-jpeg" => jpeg[..(jpeg.Length / 2)],
            _ => png[..(png.Length / 2)],
        };
        SanitizedImage result = _sanitizer.Sanitize(bytes);
        Assert.Equal(SanitizeStatus.Skipped, result.Status);
        Assert.False(string.IsNullOrWhiteSpace(result.Reason));
        Assert.Contains(kind switch { "empty" => "empty", "text" => "not an image", _ => "truncated" }, result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Sanitize_HeaderClaimingTooManyPixels_IsSkippedBeforeDecoding()
    {
        byte[] jpeg = TestImages.Jpeg(16, 16);
        SanitizedImage result = new ImageSanitizer(new SanitizeOptions(MaxPixels: 100)).Sanitize(jpeg);
        Assert.Equal(SanitizeStatus.Skipped, result.Status);
        Assert.StartsWith("too large", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Sanitize_MaxSide_DownscalesLargerImagesOnly()
    {
        var sanitizer = new ImageSanitizer(new SanitizeOptions(MaxSide: 32));
        SanitizedImage big = sanitizer.Sanitize(TestImages.Jpeg(80, 40));
        Assert.Equal(SanitizeStatus.Reencoded, big.Status);
        Assert.Equal((32, 16), (big.Width, big.Height));
        Assert.True(JpegHeader.TryParse(big.Jpeg.Span, out JpegInfo info, out _));
        Assert.Equal((32, 16), (info.Width, info.Height));
        Assert.Equal(SanitizeStatus.Written, sanitizer.Sanitize(TestImages.Jpeg(30, 20)).Status);
    }

    [Fact]
    public void Sanitize_ExifOrientation6ByDefault_IsStoredByteForByte()
    {
        byte[] jpeg = TestImages.WithExifOrientation(TestImages.Jpeg(40, 20), 6, bigEndian: false);
        SanitizedImage result = _sanitizer.Sanitize(jpeg);
        Assert.Equal(SanitizeStatus.Written, result.Status);
        Assert.Equal(jpeg, result.Jpeg.ToArray());
        Assert.Equal((40, 20), (result.Width, result.Height));
    }
}
