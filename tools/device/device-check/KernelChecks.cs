using System.Text.Json.Nodes;
using Loader.Augment;
using Loader.Augment.Cuda;
using Loader.Augment.Cuda.Reference;

/// <summary>The CUDA kernel against the CPU path for the same plans (goal: within 2/255 before normalization), and GPU end to end.</summary>
internal static class KernelChecks
{
    private static readonly (PixelType, PixelLayout)[] Outputs =
    [
        (PixelType.UInt8, PixelLayout.Nhwc), (PixelType.Float32, PixelLayout.Nchw), (PixelType.Float32, PixelLayout.Nhwc),
        (PixelType.Float16, PixelLayout.Nchw), (PixelType.Float16, PixelLayout.Nhwc), (PixelType.BFloat16, PixelLayout.Nchw),
        (PixelType.BFloat16, PixelLayout.Nhwc),
    ];

    public static JsonObject AgainstCpu(CudaDevice device, ReadOnlyMemory<byte>[] jpegs)
    {
        using var harness = new KernelHarness(device);
        using var cpu = new CpuSampleDecoder();
        using var regions = new CpuRegionDecoder();
        var planner = new SamplePlanner(new AugmentOptions());
        var plans = new List<(int Image, SamplePlan Plan)>();
        for (var i = 0; i < jpegs.Length; i++)
        {
            var info = cpu.ReadHeader(jpegs[i].Span);
            plans.Add((i, planner.PlanTrain(5, 0, i, info.Width, info.Height)));
            plans.Add((i, planner.PlanEval(info.Width, info.Height)));
        }

        var samples = plans.Select(p => regions.Decode(jpegs[p.Image].Span, p.Plan)).ToList();
        var result = new JsonObject { ["samples"] = samples.Count };
        var allPass = true;
        foreach (var (type, layout) in Outputs)
        {
            var spec = OutputSpec.ImageNet(224, type, layout);
            var batch = harness.Run(samples, spec);
            var expected = new byte[spec.BytesPerSample];
            float worst = 0;
            double sum = 0;
            for (var s = 0; s < samples.Count; s++)
            {
                cpu.Process(jpegs[plans[s].Image].Span, plans[s].Plan, spec, expected);
                var gpu = SampleComparison.ToPixels(batch.AsSpan(s * spec.BytesPerSample, spec.BytesPerSample), spec);
                var reference = SampleComparison.ToPixels(expected, spec);
                worst = Math.Max(worst, SampleComparison.MaxAbsDifference(gpu, reference));
                for (var k = 0; k < gpu.Length; k++)
                {
                    sum += Math.Abs(gpu[k] - reference[k]);
                }
            }

            var tolerance = 2f + SampleComparison.QuantizationSlack(spec);
            allPass &= worst <= tolerance;
            result[$"{type}_{layout}"] = new JsonObject
            {
                ["max_abs_diff_pixels"] = Math.Round(worst, 3),
                ["mean_abs_diff_pixels"] = Math.Round(sum / ((double)samples.Count * spec.Width * spec.Height * 3), 4),
                ["tolerance_pixels"] = Math.Round(tolerance, 3),
                ["pass"] = worst <= tolerance,
            };
        }

        result["pass"] = allPass;
        return result;
    }

    public static JsonObject EndToEnd(CudaDevice device, string[] files, ReadOnlyMemory<byte>[] jpegs)
    {
        var spec = OutputSpec.ImageNet(224, PixelType.UInt8, PixelLayout.Nhwc);
        using var cpu = new CpuSampleDecoder();
        var planner = new SamplePlanner(new AugmentOptions());
        var plans = jpegs.Select((j, i) =>
        {
            var info = cpu.ReadHeader(j.Span);
            return planner.PlanTrain(9, 0, i, info.Width, info.Height);
        }).ToArray();
        var result = new JsonObject();
        foreach (var hardware in new[] { true, false })
        {
            using var processor = new GpuBatchProcessor(device, spec, jpegs.Length, new GpuDecodeOptions { UseHardwareDecoder = hardware });
            using var output = device.Allocate((long)jpegs.Length * spec.BytesPerSample);
            processor.ProcessBatch(jpegs, plans, output.Pointer).Synchronize();
            var batch = new byte[jpegs.Length * spec.BytesPerSample];
            output.CopyToHost(batch, processor.Stream);
            var expected = new byte[spec.BytesPerSample];
            var psnrs = new List<double>();
            var worst = new List<(double Psnr, string File)>();
            for (var i = 0; i < jpegs.Length; i++)
            {
                cpu.Process(jpegs[i].Span, plans[i], spec, expected);
                var psnr = SampleComparison.Psnr(batch.AsSpan(i * spec.BytesPerSample, spec.BytesPerSample), expected);
                psnrs.Add(double.IsFinite(psnr) ? psnr : 99);
                worst.Add((psnr, Path.GetFileName(files[i])));
            }

            var stats = processor.LastBatch;
            result[hardware ? "hardware_preferred" : "hybrid_only"] = new JsonObject
            {
                ["hardware"] = stats.Hardware,
                ["hybrid"] = stats.Hybrid,
                ["cpu_fallback"] = stats.CpuFallback,
                ["psnr_min_db"] = Math.Round(psnrs.Min(), 2),
                ["psnr_mean_db"] = Math.Round(psnrs.Average(), 2),
                ["worst_five"] = new JsonArray([.. worst.OrderBy(w => w.Psnr).Take(5).Select(w => (JsonNode?)$"{w.File}: {w.Psnr:F1} dB")]),
            };
        }

        result["note"] = "informative: the CPU path decodes at a reduced DCT scale when the crop is large, nvJPEG at full resolution";
        return result;
    }
}
