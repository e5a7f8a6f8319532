using Loader.Augment.Interop;

namespace Loader.Augment.Tests.Interop;

/// <summary>The shim's region decode must give exactly the pixels of the full decode, at every DCT scale.</summary>
public sealed class LibLoaderJpegTests
{
    [Theory]
    [InlineData("n03196217_digital_clock.JPEG", 8, 37, 21, 301, 250)]
    [InlineData("n03196217_digital_clock.JPEG", 5, 13, 50, 200, 101)]
    [InlineData("n03196217_digital_clock.JPEG", 1, 1, 3, 50, 40)]
    [InlineData("progressive_301x227.jpg", 6, 17, 9, 150, 120)]
    [InlineData("arithmetic_289x217.jpg", 7, 33, 65, 100, 100)]
    [InlineData("odd_333x251_444.jpg", 3, 11, 5, 100, 80)]
    [InlineData("n02815834_beaker.JPEG", 8, 100, 100, 219, 121)]
    [InlineData("cmyk_257x193.jpg", 4, 9, 7, 100, 80)]
    public void DecodeRegion_EqualsTheSameRectangleOfTheFullDecode(string file, int scale, int x, int y, int width, int height)
    {
        var jpeg = Fixture.ImageBytes(file);
        using var decoder = LibLoaderJpeg.Create();
        var (scaledWidth, scaledHeight, _, full) = Decode(decoder, jpeg, scale, 0, 0, null, null, 0);

        // A tight stride (rows copied out of libjpeg's scanline) and a padded one (rows written in place).
        foreach (var extra in new[] { 0, LibLoaderJpeg.MaxLeftPad })
        {
            var stride = (width + extra) * 3;
            var (_, _, leftPad, region) = Decode(decoder, jpeg, scale, x, y, width, height, extra);
            Assert.InRange(leftPad, 0, extra);
            for (var row = 0; row < height; row++)
            {
                var expected = full.AsSpan((((y + row) * scaledWidth) + x) * 3, width * 3);
                var actual = region.AsSpan((row * stride) + (leftPad * 3), width * 3);
                Assert.True(expected.SequenceEqual(actual), $"row {row} differs ({scaledWidth}x{scaledHeight} at {scale}/8, stride {stride}, pad {leftPad})");
            }
        }
    }

    /// <summary>
    /// Rectangles whose edges sweep across the MCUs, at every scale, for every sampling libjpeg upsamples differently.
    /// 4x2 and 2x4 are the ones libjpeg-turbo 2.1's <c>jpeg_crop_scanline</c> got wrong below 8/8 (its fancy upsampler
    /// left part of each cropped row unwritten, and the colour converter read uninitialized memory into the pixels), so
    /// the shim decodes those at full width; this fails for them if it crops.
    /// </summary>
    [Theory]
    [InlineData("sampling42_203x141.jpg")]
    [InlineData("sampling24_203x141.jpg")]
    [InlineData("sampling411_203x141.jpg")]
    [InlineData("sampling440_203x141.jpg")]
    [InlineData("n02815834_beaker.JPEG")]
    [InlineData("odd_333x251_444.jpg")]
    [InlineData("progressive_dc_only_203x141.jpg")]
    [InlineData("progressive_301x227.jpg")]
    public void DecodeRegion_SweptAcrossTheMcusAtEveryScale_EqualsTheFullDecode(string file)
    {
        var jpeg = Fixture.ImageBytes(file);
        using var decoder = LibLoaderJpeg.Create();
        var compared = 0;
        for (var scale = 1; scale <= 8; scale++)
        {
            var (scaledWidth, scaledHeight, _, full) = Decode(decoder, jpeg, scale, 0, 0, null, null, 0);
            var y = scaledHeight / 3;
            var height = (scaledHeight / 3) + 1;
            for (var x = 1; x < scaledWidth; x += 5)
            {
                for (var width = 1; x + width <= scaledWidth; width += 7)
                {
                    var stride = (width + LibLoaderJpeg.MaxLeftPad) * 3;
                    var (_, _, leftPad, region) = Decode(decoder, jpeg, scale, x, y, width, height, LibLoaderJpeg.MaxLeftPad);
                    for (var row = 0; row < height; row++)
                    {
                        var expected = full.AsSpan((((y + row) * scaledWidth) + x) * 3, width * 3);
                        var actual = region.AsSpan((row * stride) + (leftPad * 3), width * 3);
                        Assert.True(expected.SequenceEqual(actual), $"{file} at {scale}/8: row {row} of {width}x{height} at ({x}, {y}) differs from the full decode");
                    }

                    compared++;
                }
            }
        }

        Assert.True(compared > 300, $"only {compared} rectangles");
    }

    private static unsafe (int Width, int Height, int LeftPad, byte[] Pixels) Decode(JpegDecompressorHandle decoder, byte[] jpeg, int scale, int x, int y, int? width, int? height, int extra)
    {
        var message = new byte[256];
        int w, h, c;
        fixed (byte* data = jpeg)
        fixed (byte* m = message)
        {
            Assert.Equal(0, LibLoaderJpeg.ReadHeader(decoder, data, (nuint)jpeg.Length, out w, out h, out c, m, message.Length));
        }

        var scaledWidth = ((w * scale) + 7) / 8;
        var scaledHeight = ((h * scale) + 7) / 8;
        var rw = width ?? scaledWidth;
        var rh = height ?? scaledHeight;
        var stride = (rw + extra) * 3;
        var pixels = new byte[stride * rh];
        int leftPad;
        fixed (byte* data = jpeg)
        fixed (byte* output = pixels)
        fixed (byte* m = message)
        {
            var rc = LibLoaderJpeg.DecodeRegion(decoder, data, (nuint)jpeg.Length, 0, scale, x, y, rw, rh, output, (nuint)stride, (nuint)pixels.Length, out leftPad, out var sw, out var sh, m, message.Length);
            Assert.Equal(0, rc);
            Assert.Equal((scaledWidth, scaledHeight), (sw, sh));
        }

        return (scaledWidth, scaledHeight, leftPad, pixels);
    }
}
