using System.Diagnostics;
using System.Text.Json.Nodes;
using Loader.Augment;
using Loader.Augment.Cuda;

/// <summary>Images/s of GPU decode+augment (hardware preferred, hybrid only) and of the CPU path on every core, same images, same plans.</summary>
internal static class Throughput
{
    public static JsonObject Measure(CudaDevice device, ReadOnlyMemory<byte>[] jpegs, int batchSize, double seconds)
    {
        var spec = OutputSpec.ImageNet(224, PixelType.Float16, PixelLayout.Nchw);
        using var cpu = new CpuSampleDecoder();
        var infos = jpegs.Select(j => cpu.ReadHeader(j.Span)).ToArray();
        var planner = new SamplePlanner(new AugmentOptions());
        var result = new JsonObject { ["output"] = "224x224 fp16 NCHW, ImageNet train plans", ["batch"] = batchSize };
        foreach (var hardware in new[] { true, false })
        {
            result[hardware ? "gpu_hardware_preferred" : "gpu_hybrid_only"] = Gpu(device, jpegs, infos, planner, spec, batchSize, seconds,
                new GpuDecodeOptions { UseHardwareDecoder = hardware });
        }

        result["cpu_all_cores"] = Cpu(jpegs, infos, planner, spec, seconds);
        return result;
    }

    private static JsonObject Gpu(CudaDevice device, ReadOnlyMemory<byte>[] jpegs, ImageInfo[] infos, SamplePlanner planner, OutputSpec spec,
        int batchSize, double seconds, GpuDecodeOptions options)
    {
        using var processor = new GpuBatchProcessor(device, spec, batchSize, options);
        using var slotA = device.Allocate((long)batchSize * spec.BytesPerSample);
        using var slotB = device.Allocate((long)batchSize * spec.BytesPerSample);
        var batch = new ReadOnlyMemory<byte>[batchSize];
        var plans = new SamplePlan[batchSize];
        long next = 0;
        void Fill(int epoch)
        {
            for (var k = 0; k < batchSize; k++, next++)
            {
                var i = (int)(next % jpegs.Length);
                batch[k] = jpegs[i];
                plans[k] = planner.PlanTrain(1, epoch, next, infos[i].Width, infos[i].Height);
            }
        }

        // Warm-up: kernel compile/cache, nvJPEG allocations, arena growth.
        for (var w = 0; w < 3; w++)
        {
            Fill(0);
            processor.ProcessBatch(batch, plans, (w % 2 == 0 ? slotA : slotB).Pointer);
        }

        processor.Stream.Synchronize();
        var watch = Stopwatch.StartNew();
        var batches = 0;
        int hardware = 0, hybrid = 0, fallback = 0;
        CudaEvent? last = null;
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            Fill(1);
            last = processor.ProcessBatch(batch, plans, (batches % 2 == 0 ? slotA : slotB).Pointer);
            hardware += processor.LastBatch.Hardware;
            hybrid += processor.LastBatch.Hybrid;
            fallback += processor.LastBatch.CpuFallback;
            batches++;
        }

        last?.Synchronize();
        var elapsed = watch.Elapsed.TotalSeconds;
        return new JsonObject
        {
            ["images_per_second"] = Math.Round(batches * batchSize / elapsed, 1),
            ["batches"] = batches,
            ["seconds"] = Math.Round(elapsed, 2),
            ["hardware_samples"] = hardware,
            ["hybrid_samples"] = hybrid,
            ["cpu_fallback_samples"] = fallback,
            ["uses_hardware_decoder"] = processor.UsesHardwareDecoder,
            ["hybrid_threads"] = options.ResolvedHybridThreads,
        };
    }

    private static JsonObject Cpu(ReadOnlyMemory<byte>[] jpegs, ImageInfo[] infos, SamplePlanner planner, OutputSpec spec, double seconds)
    {
        var threads = Environment.ProcessorCount;
        long done = 0;
        var watch = Stopwatch.StartNew();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            using var decoder = new CpuSampleDecoder();
            var slot = new byte[spec.BytesPerSample];
            for (long n = t; watch.Elapsed.TotalSeconds < seconds; n += threads)
            {
                var i = (int)(n % jpegs.Length);
                decoder.Process(jpegs[i].Span, planner.PlanTrain(1, 1, n, infos[i].Width, infos[i].Height), spec, slot);
                Interlocked.Increment(ref done);
            }
        });
        var elapsed = watch.Elapsed.TotalSeconds;
        return new JsonObject
        {
            ["images_per_second"] = Math.Round(done / elapsed, 1),
            ["threads"] = threads,
            ["note"] = "CpuSampleDecoder on every core (decode+augment into a host buffer), not the full loader pipeline",
        };
    }
}
