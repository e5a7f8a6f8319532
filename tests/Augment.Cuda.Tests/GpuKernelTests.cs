using Loader.Augment.Cuda.Reference;

namespace Loader.Augment.Cuda.Tests;

/// <summary>On the device: the CUDA kernel against the CPU path, on identical decoded pixels, for every output type and layout.</summary>
public sealed class GpuKernelTests
{
    public static TheoryData<PixelType, PixelLayout> Outputs() => new()
    {
        { PixelType.UInt8, PixelLayout.Nhwc },
        { PixelType.Float32, PixelLayout.Nchw },
        { PixelType.Float32, PixelLayout.Nhwc },
        { PixelType.Float16, PixelLayout.Nchw },
        { PixelType.Float16, PixelLayout.Nhwc },
        { PixelType.BFloat16, PixelLayout.Nchw },
        { PixelType.BFloat16, PixelLayout.Nhwc },
    };

    [Theory]
    [MemberData(nameof(Outputs))]
    public void Kernel_OnTheCpuPathsPixels_MatchesTheCpuPathWithin2Over255(PixelType type, PixelLayout layout)
    {
        Fixture.RequireGpu();
        var spec = OutputSpec.ImageNet(224, type, layout);
        var planner = new SamplePlanner(new AugmentOptions());
        using var device = CudaDevice.Open();
        using var harness = new KernelHarness(device);
        using var cpu = new CpuSampleDecoder();
        using var regions = new CpuRegionDecoder();
        var samples = new List<(byte[], GpuSampleParams)>();
        var expected = new List<byte[]>();
        var id = 0;
        foreach (var file in Fixture.Images())
        {
            var jpeg = File.ReadAllBytes(file);
            var info = cpu.ReadHeader(jpeg);
            foreach (var plan in new[] { planner.PlanTrain(1, 0, id++, info.Width, info.Height), planner.PlanEval(info.Width, info.Height) })
            {
                samples.Add(regions.Decode(jpeg, plan));
                var sample = new byte[spec.BytesPerSample];
                cpu.Process(jpeg, plan, spec, sample);
                expected.Add(sample);
            }
        }

        var batch = harness.Run(samples, spec);
        var tolerance = 2f + SampleComparison.QuantizationSlack(spec);
        for (var i = 0; i < samples.Count; i++)
        {
            var gpu = SampleComparison.ToPixels(batch.AsSpan(i * spec.BytesPerSample, spec.BytesPerSample), spec);
            var reference = SampleComparison.ToPixels(expected[i], spec);
            var worst = SampleComparison.MaxAbsDifference(gpu, reference);
            Assert.True(worst <= tolerance, $"sample {i}: max difference {worst} > {tolerance} (pixel units)");
        }
    }
}
