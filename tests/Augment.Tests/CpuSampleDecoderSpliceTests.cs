using System.Buffers.Binary;
using System.Diagnostics;
using Loader.Augment.Jpeg;

namespace Loader.Augment.Tests;

/// <summary>
/// The spliced path gives the same samples as libjpeg's region decode of the original file, allocates nothing once
/// warm, and the shim's limits make hostile files bad samples.
/// </summary>
public sealed class CpuSampleDecoderSpliceTests
{
    [Theory]
    [InlineData("n03196217_digital_clock.JPEG", "auto")]
    [InlineData("n03196217_digital_clock.JPEG", "rows")]
    [InlineData("n02093428_American_Staffordshire_terrier.JPEG", "auto")]
    [InlineData("n02669723_academic_gown.JPEG", "4")]
    [InlineData("n04372370_switch.JPEG", "auto")]   // grayscale
    [InlineData("progressive_301x227.jpg", "auto")] // progressive source, baseline once transcoded
    [InlineData("odd_333x251_444.jpg", "rows")]
    [InlineData("n04238763_slide_rule.JPEG", "2")]
    public void Process_TranscodedAndSpliced_EqualsTheOriginalsSamples_TrainAndEval(string file, string mode)
    {
        var original = Fixture.ImageBytes(file);
        var transcoded = RestartTranscoder.Transcode(original, RestartMode.Parse(mode));
        var spec = OutputSpec.ImageNet(224, PixelType.Float32, PixelLayout.Nchw);
        var planner = new SamplePlanner(new AugmentOptions());
        using var plain = new CpuSampleDecoder { SpliceRestartIntervals = false };
        using var spliced = new CpuSampleDecoder();
        var expected = new byte[spec.BytesPerSample];
        var actual = new byte[spec.BytesPerSample];
        var info = plain.ReadHeader(original);
        for (var i = 0; i <= 24; i++)
        {
            var plan = i == 24 ? planner.PlanEval(info.Width, info.Height) : planner.PlanTrain(5, 0, i, info.Width, info.Height);
            plain.Process(original, plan, spec, expected);
            spliced.Process(transcoded, plan, spec, actual);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{file} {mode} sample {i} {plan.Crop}: spliced output differs");
        }

        Assert.Equal(0, plain.Statistics.SplicedSamples);
        Assert.Equal(25, spliced.Statistics.Samples);
        Assert.True(spliced.Statistics.SplicedSamples > 0);
        Assert.InRange(spliced.Statistics.SplicedEntropyFraction, 0.01, 0.999);
    }

    [Fact]
    public void Process_Spliced_WhenWarm_AllocatesNothing()
    {
        var jpeg = RestartTranscoder.Transcode(Fixture.ImageBytes("n03196217_digital_clock.JPEG"), RestartMode.Auto);
        var spec = OutputSpec.ImageNet();
        var destination = new byte[spec.BytesPerSample];
        var planner = new SamplePlanner(new AugmentOptions());
        using var decoder = new CpuSampleDecoder();
        decoder.Process(jpeg, new SamplePlan(new CropWindow(0, 0, 500, 375), false, 224, 224), spec, destination);
        for (var i = 0; i < 40; i++)
        {
            decoder.Process(jpeg, planner.PlanTrain(1, 0, i, 500, 375), spec, destination); // grows the splice buffers
        }

        var fewest = long.MaxValue;
        for (var pass = 0; pass < 5 && fewest > 0; pass++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 20; i++)
            {
                decoder.Process(jpeg, planner.PlanTrain(1, 0, i, 500, 375), spec, destination);
            }

            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
        Assert.True(decoder.Statistics.SplicedSamples >= decoder.Statistics.Samples / 2, $"{decoder.Statistics}");
    }

    [Fact]
    public void DecodeRegion_AProgressiveBomb_IsABadSample_Quickly()
    {
        // 35 KB of progressive data whose frame claims 65500x65500: without libjpeg's memory cap the coefficient
        // buffer alone is gigabytes.
        var jpeg = Fixture.ImageBytes("progressive_301x227.jpg");
        Assert.True(JpegFrame.TryRead(jpeg, out var frame));
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(frame.SofOffset + 5), 65500);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(frame.SofOffset + 7), 65500);
        using var decoder = new CpuSampleDecoder();
        Assert.Equal(65500, decoder.ReadHeader(jpeg).Width);
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<ImageDecodeException>(() => decoder.DecodeRegion(jpeg, 8, 0, 0, 64, 64, (64 + 33) * 3, 65500, 65500));
        Assert.Contains("Backing store", e.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }

    [Fact]
    public void DecodeRegion_AShimArgumentError_IsABadSample_NotAnArgumentException()
    {
        // A rectangle past the image libjpeg finds (what a header that lies to the planner leads to).
        var jpeg = Fixture.ImageBytes("n03196217_digital_clock.JPEG");
        using var decoder = new CpuSampleDecoder();
        var e = Assert.Throws<ImageDecodeException>(() => decoder.DecodeRegion(jpeg, 8, 450, 0, 100, 10, (100 + 33) * 3, 500, 375));
        Assert.Contains("outside the scaled image", e.Message, StringComparison.Ordinal);

        // And the decoder is still good.
        decoder.DecodeRegion(jpeg, 8, 400, 0, 100, 10, (100 + 33) * 3, 500, 375);
    }
}
