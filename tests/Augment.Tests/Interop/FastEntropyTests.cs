using Loader.Augment.Interop;
using Loader.Augment.Jpeg;
using Loader.Augment.Tests.Jpeg;

namespace Loader.Augment.Tests.Interop;

/// <summary>
/// The shim's own Huffman decoder for JPEGs with restart intervals (loader_jpeg_set_fast_entropy) against libjpeg's:
/// the same pixels for whole images and regions at every scale, and for corrupt files the same outcome (outside strict
/// mode the shim falls back to libjpeg, which tolerates what it tolerates).
/// </summary>
public sealed class FastEntropyTests
{
    // 5 and 7 MCUs do not divide most rows: intervals wrap across MCU rows, which the splicer declines but the decoder
    // must still handle.
    private static readonly string[] Modes = ["auto", "rows", "1", "5", "7", "8"];

    public static TheoryData<string> Images() => [.. JpegTestImages.Variety().Select(v => v.Name)];

    [Theory]
    [MemberData(nameof(Images))]
    public void WholeImage_EveryScale_EveryMode_EqualsLibjpeg(string name)
    {
        var source = JpegTestImages.Variety().Single(v => v.Name == name).Jpeg;
        foreach (var mode in Modes)
        {
            var jpeg = RestartTranscoder.Transcode(source, RestartMode.Parse(mode));
            for (var scale = 1; scale <= 8; scale++)
            {
                var reference = JpegTestImages.FullDecode(jpeg, scale, fastEntropy: false);
                var fast = JpegTestImages.FullDecode(jpeg, scale, fastEntropy: true);
                Assert.True(reference.Pixels.AsSpan().SequenceEqual(fast.Pixels), $"{name} {mode} {scale}/8 differs");
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Region_SkippedRowsAndCroppedColumns_EqualsLibjpeg(bool strict)
    {
        // Rows above the region are skipped (jpeg_skip_scanlines decodes their MCUs without storing them), columns
        // outside it are cropped (decoded, not transformed).
        var jpeg = RestartTranscoder.Transcode(Fixture.ImageBytes("n03196217_digital_clock.JPEG"), RestartMode.Auto);
        for (var scale = 1; scale <= 8; scale++)
        {
            var (width, height) = ScaledSize(jpeg, scale);
            var (x, y, w, h) = (width / 7, height / 3, width / 2, height / 3);
            var reference = Decode(jpeg, scale, x, y, w, h, fast: false, strict);
            var fast = Decode(jpeg, scale, x, y, w, h, fast: true, strict);
            Assert.Equal(0, reference.Rc);
            Assert.Equal(0, fast.Rc);
            Assert.True(reference.Pixels.AsSpan().SequenceEqual(fast.Pixels), $"{scale}/8 differs");
        }
    }

    [Fact]
    public void RandomCorruption_SameOutcomeAsLibjpeg_NeverACrash()
    {
        var jpeg = RestartTranscoder.Transcode(Fixture.ImageBytes("n03196217_digital_clock.JPEG"), RestartMode.Auto);
        Assert.True(JpegFrame.TryRead(jpeg, out var frame));
        var (width, height) = ScaledSize(jpeg, 4);
        var random = new Random(5);
        var failures = 0;
        for (var trial = 0; trial < 150; trial++)
        {
            var corrupt = (byte[])jpeg.Clone();
            for (var k = 0; k < 1 + (trial % 5); k++)
            {
                corrupt[random.Next(frame.EntropyOffset, corrupt.Length)] = (byte)random.Next(256);
            }

            // Tolerant: the fast decoder stops at the corruption and the file is decoded again by libjpeg alone.
            var reference = Decode(corrupt, 4, 0, 0, width, height, fast: false, strict: false);
            var fast = Decode(corrupt, 4, 0, 0, width, height, fast: true, strict: false);
            Assert.Equal(reference.Rc, fast.Rc);
            Assert.True(reference.Pixels.AsSpan().SequenceEqual(fast.Pixels), $"trial {trial}: the pixels differ");

            // Strict: either decoder may stop first, at the same corrupt data; what both decode is the same.
            var strictReference = Decode(corrupt, 4, 0, 0, width, height, fast: false, strict: true);
            var strictFast = Decode(corrupt, 4, 0, 0, width, height, fast: true, strict: true);
            Assert.InRange(strictFast.Rc, 0, 1);
            if (strictFast.Rc == 0 && strictReference.Rc == 0)
            {
                Assert.True(strictReference.Pixels.AsSpan().SequenceEqual(strictFast.Pixels), $"trial {trial}: the strict pixels differ");
            }

            failures += strictFast.Rc;
        }

        Assert.InRange(failures, 50, 150); // most corruptions are caught
    }

    [Fact]
    public void TruncatedInterval_Strict_IsAnError_Tolerant_DecodesAsLibjpeg()
    {
        var jpeg = RestartTranscoder.Transcode(Fixture.ImageBytes("n03196217_digital_clock.JPEG"), RestartMode.Rows);
        Assert.True(JpegFrame.TryRead(jpeg, out var frame));
        var markers = new List<int>();
        for (var i = frame.EntropyOffset; i + 1 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] is >= 0xD0 and <= 0xD7)
            {
                markers.Add(i);
            }
        }

        // Interval 6 cut down to 30 bytes: the data ends before its MCUs do.
        var (width, height) = ScaledSize(jpeg, 8);
        var cut = jpeg.AsSpan(0, markers[5] + 2 + 30).ToArray().Concat(jpeg.AsSpan(markers[6]).ToArray()).ToArray();
        var strict = Decode(cut, 8, 0, 0, width, height, fast: true, strict: true);
        Assert.Equal(LibLoaderJpeg.ErrorJpeg, strict.Rc);
        Assert.Contains("Corrupt JPEG data", strict.Message, StringComparison.Ordinal);
        var reference = Decode(cut, 8, 0, 0, width, height, fast: false, strict: false);
        var tolerant = Decode(cut, 8, 0, 0, width, height, fast: true, strict: false);
        Assert.Equal(0, reference.Rc);
        Assert.Equal(0, tolerant.Rc);
        Assert.True(reference.Pixels.AsSpan().SequenceEqual(tolerant.Pixels));
    }

    private static (int Width, int Height) ScaledSize(byte[] jpeg, int scale)
    {
        Assert.True(JpegFrame.TryRead(jpeg, out var frame));
        return (((frame.Width * scale) + 7) / 8, ((frame.Height * scale) + 7) / 8);
    }

    private static unsafe (int Rc, byte[] Pixels, string Message) Decode(byte[] jpeg, int scale, int x, int y, int w, int h, bool fast, bool strict)
    {
        using var decoder = LibLoaderJpeg.Create();
        LibLoaderJpeg.SetFastEntropy(decoder, fast ? 1 : 0);
        LibLoaderJpeg.SetStrict(decoder, strict ? 1 : 0);
        var pixels = new byte[w * h * 3];
        var message = new byte[256];
        int rc;
        fixed (byte* data = jpeg)
        fixed (byte* output = pixels)
        fixed (byte* m = message)
        {
            rc = LibLoaderJpeg.DecodeRegion(decoder, data, (nuint)jpeg.Length, scale, x, y, w, h, output, (nuint)(w * 3), (nuint)pixels.Length,
                out _, out _, out _, m, message.Length);
        }

        return (rc, rc == 0 ? pixels : [], System.Text.Encoding.UTF8.GetString(message).TrimEnd('\0'));
    }
}
