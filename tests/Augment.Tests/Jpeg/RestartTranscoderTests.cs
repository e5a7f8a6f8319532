using Loader.Augment.Jpeg;

namespace Loader.Augment.Tests.Jpeg;

/// <summary>Transcoding adds restart intervals and changes no pixel.</summary>
public sealed class RestartTranscoderTests
{
    public static TheoryData<string> Images() => [.. JpegTestImages.Variety().Select(v => v.Name)];

    [Theory]
    [MemberData(nameof(Images))]
    public void Transcode_DecodesToTheSamePixels_AndIsBaselineWithTheChosenInterval(string name)
    {
        var source = JpegTestImages.Variety().Single(v => v.Name == name).Jpeg;
        var (width, height, before) = JpegTestImages.FullDecode(source, 8);
        Assert.True(JpegFrame.TryRead(source, out var sourceFrame));
        var columns = RestartTranscoder.OutputMcuColumns(sourceFrame);
        foreach (var mode in new[] { RestartMode.Rows, RestartMode.Auto, RestartMode.EveryMcus(1), RestartMode.EveryMcus(4), RestartMode.EveryMcus(7) })
        {
            var transcoded = RestartTranscoder.Transcode(source, mode);
            Assert.True(JpegFrame.TryRead(transcoded, out var frame), $"{name} {mode}: no frame");
            Assert.Equal((sourceFrame.Width, sourceFrame.Height, sourceFrame.Components), (frame.Width, frame.Height, frame.Components));
            Assert.Equal(columns, frame.McuColumns);
            Assert.Equal(RestartTranscoder.IntervalFor(mode, columns), frame.RestartInterval);
            Assert.Equal(0, columns % frame.RestartInterval);
            Assert.True(frame.Spliceable, $"{name} {mode}: not one baseline scan");

            var (w, h, after) = JpegTestImages.FullDecode(transcoded, 8);
            Assert.Equal((width, height), (w, h));
            Assert.True(before.AsSpan().SequenceEqual(after), $"{name} {mode}: pixels differ after transcoding");
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    [InlineData(4, 4)]
    [InlineData(29, 29)]  // prime: no divisor between 4 and 16, one interval per row
    [InlineData(32, 8)]
    [InlineData(30, 10)]  // 6 and 10 are as close to 8; the larger wins ties
    [InlineData(28, 7)]
    [InlineData(26, 13)]
    [InlineData(22, 11)]
    [InlineData(34, 34)]  // 2 x 17
    public void IntervalFor_Auto_DividesTheRow(int columns, int expected)
    {
        Assert.Equal(expected, RestartTranscoder.IntervalFor(RestartMode.Auto, columns));
    }

    [Theory]
    [InlineData(32, 8, 8)]
    [InlineData(30, 8, 6)]
    [InlineData(29, 8, 1)]
    [InlineData(10, 64, 10)]
    public void IntervalFor_Mcus_IsTheLargestDivisorNotAboveN(int columns, int n, int expected)
    {
        Assert.Equal(expected, RestartTranscoder.IntervalFor(RestartMode.EveryMcus(n), columns));
        Assert.Equal(columns, RestartTranscoder.IntervalFor(RestartMode.Rows, columns));
    }

    [Theory]
    [InlineData("off", "off")]
    [InlineData("rows", "rows")]
    [InlineData("AUTO", "auto")]
    [InlineData("8", "8")]
    public void Parse_ReadsWhatToStringWrites(string text, string expected)
    {
        Assert.Equal(expected, RestartMode.Parse(text).ToString());
        Assert.Equal(RestartMode.Parse(text), RestartMode.Parse(expected));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("65536")]
    [InlineData("sometimes")]
    public void Parse_RejectsOtherText(string text)
    {
        Assert.Throws<ArgumentException>(() => RestartMode.Parse(text));
    }

    [Fact]
    public void Transcode_TruncatedOrGarbage_IsADecodeError()
    {
        var source = Fixture.ImageBytes("n03196217_digital_clock.JPEG");
        Assert.Throws<ImageDecodeException>(() => RestartTranscoder.Transcode(source.AsSpan(0, source.Length / 2), 8));
        Assert.Throws<ImageDecodeException>(() => RestartTranscoder.Transcode(source.AsSpan(0, 300), 8));
        Assert.Throws<ImageDecodeException>(() => RestartTranscoder.Transcode("not a jpeg at all"u8, RestartMode.Auto));
        Assert.Throws<ImageDecodeException>(() => RestartTranscoder.Transcode(ReadOnlySpan<byte>.Empty, 8));
    }

    /// <summary>
    /// A progressive JPEG of its DC scan alone (legal): libjpeg decodes it with block smoothing (ACs estimated from the
    /// neighbouring DCs), which a baseline file cannot ask for, so its transcode would decode to other pixels. Refused.
    /// </summary>
    [Fact]
    public void Transcode_ProgressiveThatLibjpegSmooths_IsRefusedAsLossy()
    {
        var source = Fixture.ImageBytes("progressive_dc_only_203x141.jpg");
        var error = Assert.Throws<LossyTranscodeException>(() => RestartTranscoder.Transcode(source, RestartMode.Auto));
        Assert.Contains("libjpeg smooths its blocks", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Transcode_LeavesMetadataOut_UnlessAskedToKeepIt()
    {
        var source = Fixture.ImageBytes("n03584829_iron.JPEG"); // has a COM marker ("CREATOR: gd-jpeg ...")
        Assert.True(source.AsSpan().IndexOf("CREATOR: gd-jpeg"u8) > 0);
        Assert.True(RestartTranscoder.Transcode(source, RestartMode.Auto, keepMetadata: true).AsSpan().IndexOf("CREATOR: gd-jpeg"u8) > 0);
        var bare = RestartTranscoder.Transcode(source, RestartMode.Auto);
        Assert.True(bare.AsSpan().IndexOf("CREATOR: gd-jpeg"u8) < 0);
        Assert.True(JpegTestImages.FullDecode(source, 8).Pixels.AsSpan().SequenceEqual(JpegTestImages.FullDecode(bare, 8).Pixels));
    }

    /// <summary>
    /// The shim fuzz target's double-free finding (its first 8 bytes are the target's parameters): metadata that
    /// outgrows the transcoder's first output buffer, then coefficients out of range. A decode error, and under the
    /// corpus replay's AddressSanitizer no double free (the replay is what fails on the old shim).
    /// </summary>
    [Fact]
    public void Transcode_ErrorAfterTheOutputGrew_IsADecodeError()
    {
        var input = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fuzzing", "corpus", "shim", "finding-transcode-double-free"));
        var error = Assert.Throws<ImageDecodeException>(() => RestartTranscoder.Transcode(input.AsSpan(8), 8, keepMetadata: true));
        Assert.Contains("DCT coefficient out of range", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// libjpeg-turbo 2.1 saves markers in time quadratic in their count (40,000 empty APP1 segments took 1.7 s, a 10 MB
    /// file of them hours), so a transcode that keeps metadata keeps at most 1,024 segments and refuses a file with more,
    /// saying so; without metadata nothing is saved and any count transcodes.
    /// </summary>
    [Fact]
    public void Transcode_KeepingMetadata_RefusesMoreSegmentsThanItKeeps()
    {
        var source = Fixture.ImageBytes("n03584829_iron.JPEG");
        const int own = 2; // its JFIF APP0 and its COM
        static byte[] WithEmptyApp1Segments(byte[] jpeg, int count)
        {
            var bytes = new List<byte>(jpeg.Length + (4 * count)) { 0xFF, 0xD8 };
            for (var i = 0; i < count; i++)
            {
                bytes.AddRange(new byte[] { 0xFF, 0xE1, 0x00, 0x02 });
            }

            bytes.AddRange(jpeg.AsSpan(2).ToArray());
            return bytes.ToArray();
        }

        static int CountEmptyApp1(byte[] jpeg) => jpeg.AsSpan().Count(new byte[] { 0xFF, 0xE1, 0x00, 0x02 });

        var kept = RestartTranscoder.Transcode(WithEmptyApp1Segments(source, 1024 - own), RestartMode.Auto, keepMetadata: true);
        Assert.Equal(1024 - own, CountEmptyApp1(kept));
        var error = Assert.Throws<ImageDecodeException>(() =>
            RestartTranscoder.Transcode(WithEmptyApp1Segments(source, 1025 - own), RestartMode.Auto, keepMetadata: true));
        Assert.Contains("1025 metadata segments (APPn, COM), more than the 1024", error.Message, StringComparison.Ordinal);

        var bare = RestartTranscoder.Transcode(WithEmptyApp1Segments(source, 40_000), RestartMode.Auto);
        Assert.Equal(0, CountEmptyApp1(bare));
        Assert.True(JpegTestImages.FullDecode(source, 8).Pixels.AsSpan().SequenceEqual(JpegTestImages.FullDecode(bare, 8).Pixels));
    }
}
