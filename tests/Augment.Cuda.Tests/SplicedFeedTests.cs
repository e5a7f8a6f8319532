using Loader.Augment.Cuda.Reference;
using Loader.Augment.Jpeg;

namespace Loader.Augment.Cuda.Tests;

/// <summary>
/// What the GPU path gives nvJPEG (host code, no GPU needed): decoding it on the CPU must give the crop's pixels of
/// the whole JPEG, so the sub-JPEGs and the windows moved into them are right whatever decoder reads them.
/// </summary>
public sealed class SplicedFeedTests
{
    // The fixtures make-records can give restart intervals (arithmetic-coded and CMYK ones are re-encoded by
    // make-records instead, not transcoded; the DC-only progressive one is stored as it is, since libjpeg smooths it).
    private static IEnumerable<string> TranscodableFixtures() =>
        Fixture.Images().Where(f => !Path.GetFileName(f).StartsWith("arithmetic", StringComparison.Ordinal)
                                    && !Path.GetFileName(f).StartsWith("cmyk", StringComparison.Ordinal)
                                    && !Path.GetFileName(f).StartsWith("progressive_dc_only", StringComparison.Ordinal));

    [Theory]
    [InlineData("auto")]
    [InlineData("rows")]
    [InlineData("1")]
    public void Prepare_TrainingCrops_DecodeToTheWholeJpegsPixels(string mode)
    {
        var planner = new SamplePlanner(new AugmentOptions());
        var feed = new SplicedFeed();
        using var cpu = new CpuSampleDecoder();
        using var decoder = new CpuRegionDecoder();
        int crops = 0, spliced = 0;
        foreach (var file in TranscodableFixtures())
        {
            var jpeg = RestartTranscoder.Transcode(File.ReadAllBytes(file), RestartMode.Parse(mode));
            var info = cpu.ReadHeader(jpeg);
            for (var i = 0; i < 12; i++)
            {
                var crop = planner.PlanTrain(7, 0, i, info.Width, info.Height).Crop;
                var input = feed.Prepare(i, jpeg, crop, info.Width, info.Height);
                crops++;
                spliced += input.Spliced ? 1 : 0;
                Assert.Equal((crop.Width, crop.Height), (input.Window.Width, input.Window.Height));
                Assert.True(input.Window.X >= 0 && input.Window.Y >= 0 && input.Window.Right <= input.Width && input.Window.Bottom <= input.Height,
                    $"{Path.GetFileName(file)}: window {input.Window} outside the {input.Width}x{input.Height} input");
                var expected = decoder.DecodeWindow(jpeg, crop);
                var fed = decoder.DecodeWindow(input.Jpeg.Span, input.Window, strict: input.Spliced);
                Assert.True(expected.AsSpan().SequenceEqual(fed), $"{Path.GetFileName(file)} {mode}: crop {crop} fed as {input.Window} of {input.Width}x{input.Height} (spliced: {input.Spliced})");
            }
        }

        // Random-resized crops leave most images' intervals partly unused: most samples must splice.
        Assert.True(spliced * 2 > crops, $"{spliced} of {crops} crops spliced");
        var statistics = feed.TakeStatistics();
        Assert.Equal((crops, spliced), ((int)statistics.Samples, (int)statistics.SplicedSamples));
        Assert.True(statistics.SplicedEntropyBytes < statistics.SplicedSourceEntropyBytes);
        Assert.Equal(default, feed.TakeStatistics());
    }

    [Fact]
    public void Prepare_WholeImagesAndJpegsWithoutIntervals_GoAsTheyAre()
    {
        var feed = new SplicedFeed();
        using var cpu = new CpuSampleDecoder();
        var original = File.ReadAllBytes(Path.Combine(Fixture.ImageDirectory, "n03196217_digital_clock.JPEG"));
        var info = cpu.ReadHeader(original);
        var crop = new CropWindow(info.Width / 4, info.Height / 4, info.Width / 3, info.Height / 3);

        var noIntervals = feed.Prepare(0, original, crop, info.Width, info.Height);
        Assert.False(noIntervals.Spliced);
        Assert.True(noIntervals.Jpeg.Span.SequenceEqual(original));
        Assert.Equal(crop, noIntervals.Window);

        var transcoded = RestartTranscoder.Transcode(original, RestartMode.Auto);
        var whole = new CropWindow(0, 0, info.Width, info.Height);
        var wholeInput = feed.Prepare(0, transcoded, whole, info.Width, info.Height);
        Assert.False(wholeInput.Spliced);
        Assert.True(wholeInput.Whole);
        Assert.True(wholeInput.Jpeg.Span.SequenceEqual(transcoded));
    }

    [Fact]
    public void Prepare_WithSplicingOff_GivesEveryJpegAsItIs_AndCountsIt()
    {
        var feed = new SplicedFeed(splice: false);
        var (jpeg, info) = Clock(RestartMode.Auto);
        var crop = new CropWindow(info.Width / 4, info.Height / 4, info.Width / 3, info.Height / 3);
        var input = feed.Prepare(0, jpeg, crop, info.Width, info.Height);
        Assert.False(input.Spliced);
        Assert.True(input.Jpeg.Span.SequenceEqual(jpeg));
        Assert.Equal(crop, input.Window);
        Assert.Equal(new SpliceStatistics(1, 0, 0, 0), feed.TakeStatistics());
        Assert.True(new SplicedFeed().Prepare(0, jpeg, crop, info.Width, info.Height).Spliced, "the same crop splices with splicing on");
    }

    [Fact]
    public void Prepare_EachSampleKeepsItsOwnSubJpegUntilItIsPreparedAgain()
    {
        var feed = new SplicedFeed();
        var (jpeg, info) = Clock(RestartMode.Auto);
        var first = feed.Prepare(0, jpeg, new CropWindow(0, 0, info.Width / 3, info.Height / 3), info.Width, info.Height);
        var kept = first.Jpeg.ToArray();
        var second = feed.Prepare(1, jpeg, new CropWindow(info.Width / 2, info.Height / 2, info.Width / 3, info.Height / 3), info.Width, info.Height);
        Assert.True(first.Spliced && second.Spliced);
        Assert.True(first.Jpeg.Span.SequenceEqual(kept), "preparing sample 1 overwrote sample 0's sub-JPEG");
        Assert.False(first.Jpeg.Span.SequenceEqual(second.Jpeg.Span));
    }

    [Fact]
    public void Prepare_ABrokenRestartMarkerInTheRegion_IsAnImageDecodeException()
    {
        var feed = new SplicedFeed();
        var (jpeg, info) = Clock(RestartMode.Rows);

        // Every RSTn marker becomes 0xFF 0x00 (stuffed data): the splicer cannot find the intervals the region needs.
        for (var i = jpeg.Length - 3; i > 0; i--)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] is >= 0xD0 and <= 0xD7)
            {
                jpeg[i + 1] = 0x00;
            }
        }

        var crop = new CropWindow(info.Width / 2, info.Height / 2, info.Width / 4, info.Height / 4);
        Assert.Throws<ImageDecodeException>(() => feed.Prepare(0, jpeg, crop, info.Width, info.Height));
    }

    /// <summary>The digital-clock fixture with restart intervals, and its header.</summary>
    private static (byte[] Jpeg, ImageInfo Info) Clock(RestartMode mode)
    {
        using var cpu = new CpuSampleDecoder();
        var jpeg = RestartTranscoder.Transcode(File.ReadAllBytes(Path.Combine(Fixture.ImageDirectory, "n03196217_digital_clock.JPEG")), mode);
        return (jpeg, cpu.ReadHeader(jpeg));
    }
}
