using Loader.Augment.Interop;
using Loader.Augment.Jpeg;

namespace Loader.Augment.Tests.Jpeg;

/// <summary>A spliced decode gives exactly the full decode's pixels, and a corrupt interval is a decode error.</summary>
public sealed class JpegSplicerTests
{
    public static TheoryData<string, string> ImagesAndModes()
    {
        var data = new TheoryData<string, string>();
        foreach (var (name, _) in JpegTestImages.Variety().Where(v => !v.Name.StartsWith("cmyk", StringComparison.Ordinal)))
        {
            foreach (var mode in new[] { "rows", "auto", "1", "3" })
            {
                data.Add(name, mode);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ImagesAndModes))]
    public void Splice_EveryScale_EdgesAndCorners_EqualsTheFullDecodeCropped(string name, string mode)
    {
        var jpeg = RestartTranscoder.Transcode(JpegTestImages.Variety().Single(v => v.Name == name).Jpeg, RestartMode.Parse(mode));
        var splicer = new JpegSplicer();
        using var decoder = LibLoaderJpeg.Create();
        for (var scale = 1; scale <= 8; scale++)
        {
            var (width, height, full) = JpegTestImages.FullDecode(jpeg, scale);
            foreach (var (x, y, w, h) in Rectangles(width, height))
            {
                if (!splicer.TrySplice(jpeg, scale, x, y, w, h, out var splice))
                {
                    continue;
                }

                Assert.InRange(splice.EntropyBytes, 1, splice.SourceEntropyBytes - 1);
                Assert.InRange(x - splice.OriginX, 0, splice.ScaledWidth - w);
                Assert.InRange(y - splice.OriginY, 0, splice.ScaledHeight - h);
                AssertSpliceEqualsFullDecode(decoder, splicer, splice, scale, full, width, (x, y, w, h), $"{name} {mode} {scale}/8 ({width}x{height})");
            }
        }
    }

    public static TheoryData<string, string> SamplingsAndModes()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in new[] { "420 301x227", "422 257x190", "444 333x251", "gray 203x149", "sampling440_203x141.jpg", "sampling411_203x141.jpg",
                                     "sampling42_203x141.jpg", "sampling24_203x141.jpg", "n02815834_beaker.JPEG" })
        {
            foreach (var mode in new[] { "auto", "1" })
            {
                data.Add(name, mode);
            }
        }

        return data;
    }

    /// <summary>
    /// The margin the splicer adds for chroma upsampling is one pixel, not one MCU: so the rectangle's edges are put at
    /// every offset within an MCU (and across MCU boundaries), at every scale, for every sampling libjpeg upsamples
    /// differently (4:2:0 both ways, 4:2:2 across, 4:4:0 down, 4:1:1 by replication, 4x2 and 2x4 partly by a larger
    /// inverse DCT below 8/8), plus random rectangles.
    /// </summary>
    [Theory]
    [MemberData(nameof(SamplingsAndModes))]
    public void Splice_RectangleEdgesAtEveryOffsetWithinAnMcu_EqualTheFullDecodeCropped(string name, string mode)
    {
        var jpeg = RestartTranscoder.Transcode(JpegTestImages.Variety().Single(v => v.Name == name).Jpeg, RestartMode.Parse(mode));
        Assert.True(JpegFrame.TryRead(jpeg, out var frame));
        var splicer = new JpegSplicer();
        using var decoder = LibLoaderJpeg.Create();
        var random = new Random(5);
        var spliced = 0;
        for (var scale = 1; scale <= 8; scale++)
        {
            var (width, height, full) = JpegTestImages.FullDecode(jpeg, scale);
            var mcuWidth = frame.McuWidth * scale / 8;
            var mcuHeight = frame.McuHeight * scale / 8;
            var rectangles = new List<(int X, int Y, int W, int H)>();
            for (var offset = 0; offset <= (2 * mcuWidth) + 1; offset++)
            {
                // Left edge at every offset; the right edge sweeps too (width one MCU, and one pixel).
                rectangles.Add((offset, height / 3, mcuWidth, Math.Max(1, height / 4)));
                rectangles.Add((mcuWidth + offset, height / 4, 1, 2));
            }

            for (var offset = 0; offset <= (2 * mcuHeight) + 1; offset++)
            {
                rectangles.Add((width / 3, offset, Math.Max(1, width / 4), mcuHeight));
                rectangles.Add((width / 4, mcuHeight + offset, 2, 1));
            }

            for (var k = 0; k < 40; k++)
            {
                var x = random.Next(width);
                var y = random.Next(height);
                rectangles.Add((x, y, 1 + random.Next(width - x), 1 + random.Next(height - y)));
            }

            foreach (var (x, y, w, h) in rectangles.Where(r => r.X + r.W <= width && r.Y + r.H <= height))
            {
                if (!splicer.TrySplice(jpeg, scale, x, y, w, h, out var splice))
                {
                    continue;
                }

                spliced++;
                AssertSpliceEqualsFullDecode(decoder, splicer, splice, scale, full, width, (x, y, w, h), $"{name} {mode} {scale}/8 ({width}x{height})");
            }
        }

        Assert.True(spliced > 100, $"only {spliced} rectangles were spliced");
    }

    /// <summary>The splicer's sub-JPEG decoded at the rectangle's place in it equals the full decode's rectangle, row by row.</summary>
    private static void AssertSpliceEqualsFullDecode(JpegDecompressorHandle decoder, JpegSplicer splicer, SpliceResult splice, int scale, byte[] full,
                                                     int width, (int X, int Y, int W, int H) r, string label)
    {
        var region = DecodeRegion(decoder, splicer.Output.ToArray(), scale, r.X - splice.OriginX, r.Y - splice.OriginY, r.W, r.H,
            (splice.ScaledWidth, splice.ScaledHeight));
        for (var row = 0; row < r.H; row++)
        {
            var expected = full.AsSpan((((r.Y + row) * width) + r.X) * 3, r.W * 3);
            Assert.True(expected.SequenceEqual(region.AsSpan(row * r.W * 3, r.W * 3)),
                $"{label}: rectangle {r.X},{r.Y} {r.W}x{r.H} row {row} differs");
        }
    }

    [Fact]
    public void Splice_OfACornerCrop_DecodesAFractionOfTheEntropyCodedBytes()
    {
        var jpeg = RestartTranscoder.Transcode(Fixture.ImageBytes("n03196217_digital_clock.JPEG"), RestartMode.Auto);
        var splicer = new JpegSplicer();
        Assert.True(splicer.TrySplice(jpeg, 8, 400, 300, 100, 75, out var splice));
        Assert.True(splice.EntropyBytes < splice.SourceEntropyBytes / 5, $"{splice.EntropyBytes} of {splice.SourceEntropyBytes}");
        Assert.True(JpegFrame.TryRead(splicer.Output, out var frame));
        Assert.Equal((splice.ScaledWidth, splice.ScaledHeight), (frame.Width, frame.Height));
    }

    [Theory]
    [InlineData("n03196217_digital_clock.JPEG")] // no restart markers
    [InlineData("progressive_301x227.jpg")]
    [InlineData("arithmetic_289x217.jpg")]
    public void Splice_WithoutUsableRestartIntervals_IsDeclined(string file)
    {
        Assert.False(new JpegSplicer().TrySplice(Fixture.ImageBytes(file), 8, 10, 10, 50, 50, out _));
    }

    [Fact]
    public void Splice_IntervalsThatWrapAcrossRows_AreDeclined()
    {
        // 500 px at 4:2:0 is 32 MCUs a row; 5 does not divide it, so no rectangle starts at an interval boundary.
        var jpeg = RestartTranscoder.Transcode(Fixture.ImageBytes("n03196217_digital_clock.JPEG"), 5);
        Assert.False(new JpegSplicer().TrySplice(jpeg, 8, 10, 10, 50, 50, out _));
    }

    [Fact]
    public void Splice_TheWholeImage_IsDeclined()
    {
        var jpeg = RestartTranscoder.Transcode(JpegTestImages.Encode(301, 227, SkiaSharp.SKJpegEncoderDownsample.Downsample420), RestartMode.Rows);
        Assert.False(new JpegSplicer().TrySplice(jpeg, 8, 0, 0, 301, 227, out _));
        Assert.False(new JpegSplicer().TrySplice(jpeg, 8, 1, 1, 301 - 2, 227 - 2, out _)); // 4:2:0 at 8/8: the one-pixel margin reaches every edge
        Assert.True(new JpegSplicer().TrySplice(jpeg, 8, 16, 16, 301 - 32, 227 - 32, out _)); // but not across an MCU boundary
        Assert.True(new JpegSplicer().TrySplice(jpeg, 4, 8, 8, 151 - 16, 114 - 16, out _)); // at 4/8 chroma is not upsampled: no margin
    }

    [Fact]
    public void Splice_ARenumberedRestartMarker_IsADecodeError()
    {
        var jpeg = RestartTranscoder.Transcode(Fixture.ImageBytes("n03196217_digital_clock.JPEG"), RestartMode.Rows);
        var markers = RestartMarkers(jpeg);
        jpeg[markers[3] + 1] = 0xD6; // RST3 -> RST6
        var e = Assert.Throws<ImageDecodeException>(() => new JpegSplicer().TrySplice(jpeg, 8, 100, 200, 100, 100, out _));
        Assert.Contains("RST6, expected RST3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Splice_AMissingRestartMarker_IsADecodeError()
    {
        var jpeg = RestartTranscoder.Transcode(Fixture.ImageBytes("n03196217_digital_clock.JPEG"), RestartMode.Rows);
        var marker = RestartMarkers(jpeg)[2];
        var broken = jpeg.AsSpan(0, marker).ToArray().Concat(jpeg.AsSpan(marker + 2).ToArray()).ToArray();
        Assert.Throws<ImageDecodeException>(() => new JpegSplicer().TrySplice(broken, 8, 100, 200, 100, 100, out _));
    }

    [Fact]
    public void Splice_ATruncatedFile_IsADecodeError()
    {
        var jpeg = RestartTranscoder.Transcode(Fixture.ImageBytes("n03196217_digital_clock.JPEG"), RestartMode.Rows);
        var cut = jpeg.AsSpan(0, RestartMarkers(jpeg)[10] + 40).ToArray();
        Assert.Throws<ImageDecodeException>(() => new JpegSplicer().TrySplice(cut, 8, 100, 300, 100, 70, out _));
    }

    [Fact]
    public void Process_ACorruptIntervalInTheCrop_IsADecodeError_AndOneOutsideItIsNeverRead()
    {
        var jpeg = RestartTranscoder.Transcode(Fixture.ImageBytes("n03196217_digital_clock.JPEG"), RestartMode.Rows);
        var markers = RestartMarkers(jpeg);
        var spec = OutputSpec.ImageNet(64, PixelType.UInt8, PixelLayout.Nhwc);
        var plan = new SamplePlan(new CropWindow(100, 200, 120, 100), Flip: false, 64, 64);
        Assert.True(JpegFrame.TryRead(jpeg, out var frame));
        var inside = 250 / frame.McuHeight; // one interval per MCU row: this one holds row 250, in the crop
        var slot = new byte[spec.BytesPerSample];
        using var decoder = new CpuSampleDecoder();

        // The interval inside the crop, cut down to its first 40 bytes: it ends before its MCUs do.
        var start = markers[inside - 1] + 2;
        var corrupt = jpeg.AsSpan(0, start + 40).ToArray().Concat(jpeg.AsSpan(markers[inside]).ToArray()).ToArray();
        var e = Assert.Throws<ImageDecodeException>(() => decoder.Process(corrupt, plan, spec, slot));
        Assert.Contains("restart intervals", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, decoder.Statistics.SplicedSamples);

        // Interval 2 is far above the crop: the splice never reads it, so the sample decodes as it did.
        var expected = new byte[slot.Length];
        decoder.Process(jpeg, plan, spec, expected);
        var above = (byte[])jpeg.Clone();
        for (var i = markers[1] + 10; i < markers[1] + 30; i++)
        {
            above[i] = 0x5A;
        }

        decoder.Process(above, plan, spec, slot);
        Assert.Equal(expected, slot);
    }

    [Fact]
    public void Process_RandomCorruption_IsADecodeErrorOrASample_NeverACrash()
    {
        var jpeg = RestartTranscoder.Transcode(Fixture.ImageBytes("n03196217_digital_clock.JPEG"), RestartMode.Auto);
        var spec = OutputSpec.ImageNet(32, PixelType.UInt8, PixelLayout.Nhwc);
        var slot = new byte[spec.BytesPerSample];
        var planner = new SamplePlanner(new AugmentOptions { OutputSize = 32, EvalResize = 36 });
        using var decoder = new CpuSampleDecoder();
        var random = new Random(11);
        for (var trial = 0; trial < 200; trial++)
        {
            var corrupt = (byte[])jpeg.Clone();
            for (var k = 0; k < 1 + (trial % 6); k++)
            {
                corrupt[random.Next(700, corrupt.Length)] = (byte)random.Next(256);
            }

            try
            {
                var info = decoder.ReadHeader(corrupt);
                decoder.Process(corrupt, planner.PlanTrain(3, 0, trial, info.Width, info.Height), spec, slot);
            }
            catch (ImageDecodeException)
            {
            }
        }
    }

    /// <summary>Offsets of the RST markers in the entropy-coded data.</summary>
    private static List<int> RestartMarkers(byte[] jpeg)
    {
        Assert.True(JpegFrame.TryRead(jpeg, out var frame));
        var markers = new List<int>();
        for (var i = frame.EntropyOffset; i + 1 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] is >= 0xD0 and <= 0xD7)
            {
                markers.Add(i);
            }
        }

        return markers;
    }

    /// <summary>Rectangles touching each edge and corner, a middle one, one-pixel ones at the corners, full strips.</summary>
    private static IEnumerable<(int X, int Y, int W, int H)> Rectangles(int width, int height)
    {
        var w = Math.Max(1, width / 3);
        var h = Math.Max(1, height / 3);
        var right = width - w;
        var bottom = height - h;
        var midX = (width - w) / 2;
        var midY = (height - h) / 2;
        return new[]
        {
            (0, 0, w, h), (right, 0, w, h), (0, bottom, w, h), (right, bottom, w, h),
            (midX, 0, w, h), (midX, bottom, w, h), (0, midY, w, h), (right, midY, w, h), (midX, midY, w, h),
            (0, 0, 1, 1), (width - 1, 0, 1, 1), (0, height - 1, 1, 1), (width - 1, height - 1, 1, 1),
            (0, midY, width, h), (midX, 0, w, height), (Math.Min(width - 1, 17), Math.Min(height - 1, 9), Math.Max(1, Math.Min(23, width - 17)), Math.Max(1, Math.Min(19, height - 9))),
        }.Where(r => r.Item1 >= 0 && r.Item2 >= 0 && r.Item1 + r.Item3 <= width && r.Item2 + r.Item4 <= height).Distinct();
    }

    private static unsafe byte[] DecodeRegion(JpegDecompressorHandle decoder, byte[] jpeg, int scale, int x, int y, int w, int h,
        (int Width, int Height) expectedSize)
    {
        var pixels = new byte[w * h * 3];
        var message = new byte[256];
        fixed (byte* data = jpeg)
        fixed (byte* output = pixels)
        fixed (byte* m = message)
        {
            var rc = LibLoaderJpeg.DecodeRegion(decoder, data, (nuint)jpeg.Length, 0, scale, x, y, w, h, output, (nuint)(w * 3),
                (nuint)pixels.Length, out _, out var sw, out var sh, m, message.Length);
            Assert.True(rc == 0, System.Text.Encoding.UTF8.GetString(message).TrimEnd('\0'));
            Assert.Equal(expectedSize, (sw, sh));
        }

        return pixels;
    }
}
