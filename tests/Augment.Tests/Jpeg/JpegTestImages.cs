using Loader.Augment.Interop;
using SkiaSharp;

namespace Loader.Augment.Tests.Jpeg;

/// <summary>JPEGs for the restart-interval tests, drawn and encoded here, and a plain full decode to compare with.</summary>
internal static class JpegTestImages
{
    /// <summary>A textured RGB (or gray) image encoded by SkiaSharp's libjpeg-turbo with the given chroma subsampling.</summary>
    public static byte[] Encode(int width, int height, SKJpegEncoderDownsample subsampling, bool gray = false, int quality = 90, int seed = 1)
    {
        var info = new SKImageInfo(width, height, gray ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var random = new Random(seed);
        var pixels = bitmap.GetPixelSpan();
        var bytesPerPixel = gray ? 1 : 4;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var p = ((y * width) + x) * bytesPerPixel;
                // Smooth gradients, a few hard edges and noise: every coefficient band gets exercised.
                var edge = ((x / 13) + (y / 7)) % 3 == 0 ? 80 : 0;
                for (var c = 0; c < Math.Min(3, bytesPerPixel); c++)
                {
                    var v = (x * (3 + c) * 255 / Math.Max(1, width)) + (y * (5 - c) * 255 / Math.Max(1, height) / 2) + edge + random.Next(24);
                    pixels[p + c] = (byte)(v & 255);
                }

                if (!gray)
                {
                    pixels[p + 3] = 255;
                }
            }
        }

        using var pixmap = bitmap.PeekPixels();
        using var data = pixmap.Encode(new SKJpegEncoderOptions(quality, subsampling, SKJpegEncoderAlphaOption.Ignore));
        return data?.ToArray() ?? throw new InvalidOperationException("SkiaSharp could not encode the JPEG");
    }

    /// <summary>
    /// The whole image decoded by the shim at scale/8, RGB, rows tightly packed; by libjpeg's own entropy decoder unless
    /// another <paramref name="entropy"/> mode is asked for (libjpeg's is the reference the shim's are checked against).
    /// </summary>
    public static unsafe (int Width, int Height, byte[] Pixels) FullDecode(byte[] jpeg, int scale, int entropy = LibLoaderJpeg.EntropyLibjpeg)
    {
        using var decoder = LibLoaderJpeg.Create();
        LibLoaderJpeg.SetFastEntropy(decoder, entropy);
        var message = new byte[256];
        int w, h;
        fixed (byte* data = jpeg)
        fixed (byte* m = message)
        {
            Assert.Equal(0, LibLoaderJpeg.ReadHeader(decoder, data, (nuint)jpeg.Length, out w, out h, out _, m, message.Length));
        }

        var scaledWidth = ((w * scale) + 7) / 8;
        var scaledHeight = ((h * scale) + 7) / 8;
        var pixels = new byte[scaledWidth * scaledHeight * 3];
        fixed (byte* data = jpeg)
        fixed (byte* output = pixels)
        fixed (byte* m = message)
        {
            var rc = LibLoaderJpeg.DecodeRegion(decoder, data, (nuint)jpeg.Length, 0, scale, 0, 0, scaledWidth, scaledHeight, output,
                (nuint)(scaledWidth * 3), (nuint)pixels.Length, out _, out var sw, out var sh, m, message.Length);
            Assert.True(rc == 0, System.Text.Encoding.UTF8.GetString(message).TrimEnd('\0'));
            Assert.Equal((scaledWidth, scaledHeight), (sw, sh));
        }

        return (scaledWidth, scaledHeight, pixels);
    }

    /// <summary>The sizes and samplings the lossless and splice tests run over (name, bytes).</summary>
    public static IEnumerable<(string Name, byte[] Jpeg)> Variety()
    {
        yield return ("420 301x227", Encode(301, 227, SKJpegEncoderDownsample.Downsample420));
        yield return ("422 257x190", Encode(257, 190, SKJpegEncoderDownsample.Downsample422));
        yield return ("444 333x251", Encode(333, 251, SKJpegEncoderDownsample.Downsample444));
        yield return ("gray 203x149", Encode(203, 149, SKJpegEncoderDownsample.Downsample420, gray: true));
        yield return ("420 1x1", Encode(1, 1, SKJpegEncoderDownsample.Downsample420));
        yield return ("420 11x9 (narrower than an MCU)", Encode(11, 9, SKJpegEncoderDownsample.Downsample420));
        yield return ("422 5x37", Encode(5, 37, SKJpegEncoderDownsample.Downsample422));
        yield return ("gray 3x2", Encode(3, 2, SKJpegEncoderDownsample.Downsample444, gray: true));
        yield return ("420 500x17 (one MCU row)", Encode(500, 17, SKJpegEncoderDownsample.Downsample420));
        foreach (var file in new[] { "progressive_301x227.jpg", "n03196217_digital_clock.JPEG", "n02815834_beaker.JPEG", "odd_333x251_444.jpg",
                                     "small_37x23.jpg", "tiny_1x1.jpg", "arithmetic_289x217.jpg", "cmyk_257x193.jpg",
                                     "sampling440_203x141.jpg", "sampling411_203x141.jpg", "sampling42_203x141.jpg", "sampling24_203x141.jpg" })
        {
            yield return (file, Fixture.ImageBytes(file));
        }
    }
}
