using Loader.Augment.Interop;
using Loader.Augment.Jpeg;
using Loader.Augment.Tests.Jpeg;

namespace Loader.Augment.Tests.Interop;

/// <summary>
/// The shim's own Huffman decoder for JPEGs with restart intervals (loader_jpeg_set_fast_entropy), one MCU at a time
/// and two rows at a time, against libjpeg's: the same pixels for whole images and regions at every scale, and for
/// corrupt files the same outcome (outside strict mode the shim falls back to libjpeg, which tolerates what it
/// tolerates).
/// </summary>
public sealed class FastEntropyTests
{
    // Modes as make-records reads them (an N is the largest divisor of the row's MCU count up to N, so that intervals
    // tile the rows), and intervals of exactly 5 and 7 MCUs, which do not divide most rows: they wrap across MCU rows,
    // which the splicer declines but the decoder must still handle.
    private static readonly string[] Modes = ["auto", "rows", "1", "5", "8"];
    private static readonly int[] WrappingIntervals = [5, 7];

    private static readonly int[] FastModes = [LibLoaderJpeg.EntropyFast, LibLoaderJpeg.EntropyPaired];

    public static TheoryData<string> Images() => [.. JpegTestImages.Variety().Select(v => v.Name)];

    [Theory]
    [MemberData(nameof(Images))]
    public void WholeImage_EveryScale_EveryMode_EqualsLibjpeg(string name)
    {
        var source = JpegTestImages.Variety().Single(v => v.Name == name).Jpeg;
        var transcoded = Modes.Select(m => (Mode: m, Jpeg: RestartTranscoder.Transcode(source, RestartMode.Parse(m))))
            .Concat(WrappingIntervals.Select(n => (Mode: $"exactly {n}", Jpeg: RestartTranscoder.Transcode(source, n))));
        foreach (var (mode, jpeg) in transcoded)
        {
            for (var scale = 1; scale <= 8; scale++)
            {
                var reference = JpegTestImages.FullDecode(jpeg, scale);
                foreach (var entropy in FastModes)
                {
                    var fast = JpegTestImages.FullDecode(jpeg, scale, entropy);
                    Assert.True(reference.Pixels.AsSpan().SequenceEqual(fast.Pixels), $"{name} {mode} {scale}/8 entropy {entropy} differs");
                }
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
            var reference = Decode(jpeg, scale, x, y, w, h, LibLoaderJpeg.EntropyLibjpeg, strict);
            Assert.Equal(0, reference.Rc);
            foreach (var entropy in FastModes)
            {
                var fast = Decode(jpeg, scale, x, y, w, h, entropy, strict);
                Assert.Equal(0, fast.Rc);
                Assert.True(reference.Pixels.AsSpan().SequenceEqual(fast.Pixels), $"{scale}/8 entropy {entropy} differs");
            }
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
            var reference = Decode(corrupt, 4, 0, 0, width, height, LibLoaderJpeg.EntropyLibjpeg, strict: false);
            var strictReference = Decode(corrupt, 4, 0, 0, width, height, LibLoaderJpeg.EntropyLibjpeg, strict: true);
            foreach (var entropy in FastModes)
            {
                var fast = Decode(corrupt, 4, 0, 0, width, height, entropy, strict: false);
                Assert.Equal(reference.Rc, fast.Rc);
                Assert.True(reference.Pixels.AsSpan().SequenceEqual(fast.Pixels), $"trial {trial} entropy {entropy}: the pixels differ");

                // Strict: either decoder may stop first, at the same corrupt data; what both decode is the same.
                var strictFast = Decode(corrupt, 4, 0, 0, width, height, entropy, strict: true);
                Assert.InRange(strictFast.Rc, 0, 1);
                if (strictFast.Rc == 0 && strictReference.Rc == 0)
                {
                    Assert.True(strictReference.Pixels.AsSpan().SequenceEqual(strictFast.Pixels), $"trial {trial} entropy {entropy}: the strict pixels differ");
                }

                failures += strictFast.Rc;
            }
        }

        Assert.InRange(failures, 2 * 50, 2 * 150); // most corruptions are caught, by both modes
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
        var reference = Decode(cut, 8, 0, 0, width, height, LibLoaderJpeg.EntropyLibjpeg, strict: false);
        Assert.Equal(0, reference.Rc);
        foreach (var entropy in FastModes)
        {
            var strict = Decode(cut, 8, 0, 0, width, height, entropy, strict: true);
            Assert.Equal(LibLoaderJpeg.ErrorJpeg, strict.Rc);
            Assert.Contains("Corrupt JPEG data", strict.Message, StringComparison.Ordinal);
            var tolerant = Decode(cut, 8, 0, 0, width, height, entropy, strict: false);
            Assert.Equal(0, tolerant.Rc);
            Assert.True(reference.Pixels.AsSpan().SequenceEqual(tolerant.Pixels));
        }
    }

    [Theory]
    [InlineData("rows", 8)]
    [InlineData("rows", 3)]
    [InlineData("auto", 8)]
    [InlineData("auto", 2)]
    [InlineData("1", 5)]
    public void Paired_RegionsEndingAtEveryMcuRow_EqualLibjpeg_AndReadNoRowBelowTheRegion(string mode, int scale)
    {
        // Regions of one to three MCU rows ending at every row: a row is paired with the one below only when the
        // region needs both, so the rows read in pairs never go past the region's last MCU row.
        var jpeg = RestartTranscoder.Transcode(Fixture.ImageBytes("n03196217_digital_clock.JPEG"), RestartMode.Parse(mode));
        Assert.True(JpegFrame.TryRead(jpeg, out var frame));
        var (width, height) = ScaledSize(jpeg, scale);
        var rowLines = frame.McuHeight * scale / 8;
        var paired = 0;
        for (var lastRow = 0; lastRow < frame.McuRows; lastRow++)
        {
            for (var rows = 1; rows <= 3; rows++)
            {
                var y = Math.Max(0, (lastRow - rows + 1) * rowLines);
                var bottom = Math.Min(height, (lastRow + 1) * rowLines);
                var (x, w) = (width / 5, width / 2);
                var reference = Decode(jpeg, scale, x, y, w, bottom - y, LibLoaderJpeg.EntropyLibjpeg, strict: true);
                var fast = Decode(jpeg, scale, x, y, w, bottom - y, LibLoaderJpeg.EntropyPaired, strict: true);
                Assert.Equal(0, reference.Rc);
                Assert.Equal(0, fast.Rc);
                Assert.True(reference.Pixels.AsSpan().SequenceEqual(fast.Pixels), $"rows ..{lastRow} ({rows}) differ");
                Assert.InRange(fast.PairedRows, 0, lastRow + 1);
                Assert.Equal(0, fast.PairedRows % 2);
                paired += fast.PairedRows;
            }
        }

        // The whole image: every row but (for an odd count) the last is read in pairs.
        var whole = Decode(jpeg, scale, 0, 0, width, height, LibLoaderJpeg.EntropyPaired, strict: true);
        Assert.Equal(0, whole.Rc);
        Assert.Equal(frame.McuRows / 2 * 2, whole.PairedRows);
        Assert.True(paired > 0);
    }

    [Fact]
    public void Paired_IntervalsThatWrapAcrossRows_AreDecodedOneRowAtATime()
    {
        var source = Fixture.ImageBytes("n03196217_digital_clock.JPEG");
        Assert.True(JpegFrame.TryRead(source, out var original));
        var interval = Enumerable.Range(5, 20).First(n => RestartTranscoder.OutputMcuColumns(original) % n != 0);
        var jpeg = RestartTranscoder.Transcode(source, interval);
        Assert.True(JpegFrame.TryRead(jpeg, out var frame));
        Assert.NotEqual(0, frame.McuColumns % frame.RestartInterval);
        var (width, height) = ScaledSize(jpeg, 8);
        var reference = Decode(jpeg, 8, 0, 0, width, height, LibLoaderJpeg.EntropyLibjpeg, strict: true);
        var fast = Decode(jpeg, 8, 0, 0, width, height, LibLoaderJpeg.EntropyPaired, strict: true);
        Assert.Equal(0, fast.Rc);
        Assert.Equal(0, fast.PairedRows);
        Assert.True(reference.Pixels.AsSpan().SequenceEqual(fast.Pixels));
    }

    [Fact]
    public void Paired_CorruptDataBelowTheRegion_IsNeverRead_CorruptDataInTheRowBelowInsideIt_IsAnError()
    {
        var jpeg = RestartTranscoder.Transcode(Fixture.ImageBytes("n03196217_digital_clock.JPEG"), RestartMode.Rows);
        Assert.True(JpegFrame.TryRead(jpeg, out var frame));
        var rowStarts = new List<int> { frame.EntropyOffset };
        for (var i = frame.EntropyOffset; i + 1 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] is >= 0xD0 and <= 0xD7)
            {
                rowStarts.Add(i + 2);
            }
        }

        Assert.Equal(frame.McuRows, rowStarts.Count); // one interval per row
        var (width, height) = ScaledSize(jpeg, 8);
        var damagedRow = 5;
        var corrupt = (byte[])jpeg.Clone();
        for (var i = rowStarts[damagedRow]; i < rowStarts[damagedRow] + 8; i++)
        {
            corrupt[i] = 0xFE; // a run of ones: no valid code of the table is that long here
        }

        // Rows 0..4 (an odd count: row 4 is the one that could have been paired with row 5).
        var above = Decode(corrupt, 8, 0, 0, width, damagedRow * frame.McuHeight, LibLoaderJpeg.EntropyPaired, strict: true);
        var intact = Decode(jpeg, 8, 0, 0, width, damagedRow * frame.McuHeight, LibLoaderJpeg.EntropyLibjpeg, strict: true);
        Assert.Equal(0, above.Rc);
        Assert.True(intact.Pixels.AsSpan().SequenceEqual(above.Pixels));

        // Rows 4..5: row 5 is read together with row 4, and its corruption fails the decode.
        var into = Decode(corrupt, 8, 0, (damagedRow - 1) * frame.McuHeight, width, 2 * frame.McuHeight, LibLoaderJpeg.EntropyPaired, strict: true);
        Assert.Equal(LibLoaderJpeg.ErrorJpeg, into.Rc);
        Assert.Contains("Corrupt JPEG data", into.Message, StringComparison.Ordinal);
    }

    private static (int Width, int Height) ScaledSize(byte[] jpeg, int scale)
    {
        Assert.True(JpegFrame.TryRead(jpeg, out var frame));
        return (((frame.Width * scale) + 7) / 8, ((frame.Height * scale) + 7) / 8);
    }

    private static unsafe (int Rc, byte[] Pixels, string Message, int PairedRows) Decode(byte[] jpeg, int scale, int x, int y, int w, int h, int entropy, bool strict)
    {
        using var decoder = LibLoaderJpeg.Create();
        LibLoaderJpeg.SetFastEntropy(decoder, entropy);
        var pixels = new byte[w * h * 3];
        var message = new byte[256];
        int rc;
        fixed (byte* data = jpeg)
        fixed (byte* output = pixels)
        fixed (byte* m = message)
        {
            rc = LibLoaderJpeg.DecodeRegion(decoder, data, (nuint)jpeg.Length, strict ? 1 : 0, scale, x, y, w, h, output, (nuint)(w * 3), (nuint)pixels.Length,
                out _, out _, out _, m, message.Length);
        }

        return (rc, rc == 0 ? pixels : [], System.Text.Encoding.UTF8.GetString(message).TrimEnd('\0'), LibLoaderJpeg.PairedRows(decoder));
    }
}
