using Loader.Augment.Cuda.Reference;

namespace Loader.Augment.Cuda.Tests.Reference;

/// <summary>
/// The kernel's math, run on the CPU through its scalar mirror, against the CPU path itself: same plans, same decoded
/// pixels, output within 2/255 before normalization. This checks the resize formula and the plan packing on any
/// machine; the device check then holds the GPU kernel to the same reference.
/// </summary>
public sealed class KernelReferenceTests
{
    public static TheoryData<string> Images() => [.. Fixture.Images().Select(f => Path.GetFileName(f))];

    [Theory]
    [MemberData(nameof(Images))]
    public void KernelMath_MatchesTheCpuPath_ForTrainAndEvalPlans(string image)
    {
        var jpeg = File.ReadAllBytes(Path.Combine(Fixture.ImageDirectory, image));
        var spec = OutputSpec.ImageNet(96, PixelType.UInt8, PixelLayout.Nhwc);
        var planner = new SamplePlanner(new AugmentOptions { OutputSize = 96, EvalResize = 110 });
        using var cpu = new CpuSampleDecoder();
        using var regions = new CpuRegionDecoder();
        var info = cpu.ReadHeader(jpeg);
        var expected = new byte[spec.BytesPerSample];
        var actual = new float[spec.Width * spec.Height * 3];
        var plans = Enumerable.Range(0, 4).Select(i => planner.PlanTrain(7, 0, i, info.Width, info.Height)).Append(planner.PlanEval(info.Width, info.Height));
        foreach (var plan in plans)
        {
            cpu.Process(jpeg, plan, spec, expected);
            var (pixels, parameters) = regions.Decode(jpeg, plan);
            KernelReference.Resample(pixels, parameters, spec.Width, spec.Height, actual);
            var worst = 0f;
            for (var i = 0; i < actual.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
            }

            Assert.True(worst <= 2f, $"{image} {plan}: max difference {worst} > 2/255");
        }
    }

    [Fact]
    public void Flip_MirrorsColumns()
    {
        // A 4x1 gradient resampled 1:1: the flipped output is the unflipped one reversed.
        byte[] source = [0, 0, 0, 60, 60, 60, 120, 120, 120, 240, 240, 240];
        var p = new GpuSampleParams { SourcePitch = 12, SourceWidth = 4, SourceHeight = 1, BoxWidth = 4, BoxHeight = 1 };
        var straight = new float[12];
        var flipped = new float[12];
        KernelReference.Resample(source, p, 4, 1, straight);
        KernelReference.Resample(source, p with { Flip = 1 }, 4, 1, flipped);
        Assert.Equal([0f, 0, 0, 60, 60, 60, 120, 120, 120, 240, 240, 240], straight);
        Assert.Equal([240f, 240, 240, 120, 120, 120, 60, 60, 60, 0, 0, 0], flipped);
    }
}
