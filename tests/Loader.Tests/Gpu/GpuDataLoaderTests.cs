using Loader.Augment;
using Loader.Augment.Cuda;
using Loader.Augment.Cuda.Reference;
using Loader.Pipeline.Tests.Support;

namespace Loader.Pipeline.Tests.Gpu;

/// <summary>
/// The GPU loader itself. Without a GPU only the fail-fast test runs; the rest skip with the probe's reason and run
/// on the device (tools/device/run-on-device.sh).
/// </summary>
public sealed class GpuDataLoaderTests
{
    private const int Size = 64;

    [Fact]
    public void Create_WithoutAGpu_FailsAtOnceWithTheProbesMessage()
    {
        GpuProbeResult probe = GpuAvailability.Probe();
        if (probe.IsAvailable)
        {
            Assert.Skip("this machine has a usable GPU: " + probe.Summary);
        }

        // The record directory does not even exist: the GPU check comes first, so the message names what is missing.
        var options = new LoaderOptions { DataDirectory = "/nonexistent-records", BatchSize = 4, Threads = 1, Device = LoaderDevice.Cuda() };
        var error = Assert.Throws<GpuUnavailableException>(() => DataLoader.Create(options));
        Assert.Equal(probe.Summary, error.Message);
        Assert.StartsWith("GPU path unavailable: ", error.Message);
    }

    [Fact]
    public void CpuLoader_StillWorks_WithTheCudaProjectReferenced()
    {
        // The CUDA assembly is referenced but loads its native libraries lazily: a CPU run touches none of them.
        using var records = new TestRecords(6);
        using DataLoader loader = DataLoader.Create(Options(records, threads: 1) with { Output = OutputSpec.ImageNet(Size) });
        Assert.False(loader.Device.IsCuda);
        foreach (Batch batch in loader)
        {
            using (batch)
            {
                HostBatch host = Assert.IsType<HostBatch>(batch);
                Assert.NotEqual(0, host.ImagesPointer);
                Assert.False(host.IsPageLocked);
            }
        }
    }

    [Fact]
    public void GpuEpoch_MatchesTheCpuLoader_SamplesLabelsStateAndPixels()
    {
        RequireGpu();
        using var records = new TestRecords(23);
        records.CorruptPayload(4);
        LoaderOptions options = Options(records, threads: 2);
        List<SeenBatch> cpu;
        using (DataLoader cpuLoader = DataLoader.Create(options))
        {
            cpu = LoaderRuns.Epoch(cpuLoader);
        }

        using DataLoader loader = DataLoader.Create(options with { Device = LoaderDevice.Cuda() });
        List<SeenBatch> gpu = Epoch(loader);

        Assert.Equal(cpu.Count, gpu.Count);
        for (int b = 0; b < cpu.Count; b++)
        {
            Assert.Equal(cpu[b].Ids, gpu[b].Ids);
            Assert.Equal(cpu[b].Labels, gpu[b].Labels);
            Assert.Equal(cpu[b].Position, gpu[b].Position);
            Assert.Equal(cpu[b].Shape, gpu[b].Shape);
            int bytes = options.Output.BytesPerSample;
            for (int i = 0; i < cpu[b].Ids.Length; i++)
            {
                double psnr = SampleComparison.Psnr(cpu[b].Images.AsSpan(i * bytes, bytes), gpu[b].Images.AsSpan(i * bytes, bytes));
                // nvJPEG's IDCT and full-resolution decode differ a little from libjpeg's DCT-scaled one; a wrong
                // sample, crop, flip or channel order costs far more.
                Assert.True(psnr >= 28, $"batch {b} sample {cpu[b].Ids[i]}: PSNR {psnr:F1} dB against the CPU loader");
            }
        }

        Assert.Equal(new LoaderState(options.Seed, 1, 0), loader.State);
        Assert.Equal(1, loader.Metrics.BadRecords);
        (long hardware, long hybrid, long fallback) = loader.Metrics.GpuDecodes;
        Assert.Equal(23, hardware + hybrid + fallback); // every delivered sample decoded once; the bad one never
    }

    [Fact]
    public void TwoSlots_AreRecycledOverEpochs_AndResumeEqualsTheUninterruptedRun()
    {
        RequireGpu();
        using var records = new TestRecords(17);
        LoaderOptions options = Options(records, threads: 2) with { PrefetchDepth = 0, Device = LoaderDevice.Cuda() };
        using DataLoader loader = DataLoader.Create(options);
        List<SeenBatch> first = Epoch(loader);
        List<SeenBatch> second = Epoch(loader);
        Assert.Equal(4, first.Count);
        Assert.All(second, b => Assert.Equal(1, b.Epoch));
        Assert.Equal(Enumerable.Range(0, 17).Select(i => (long)i), second.SelectMany(b => b.Ids).Order());

        LoaderState middle = new(options.Seed, 1, second[1].Position);
        using DataLoader resumed = DataLoader.Create(options, middle);
        List<SeenBatch> rest = Epoch(resumed);
        Assert.Equal(second.Skip(1).Select(b => b.Ids), rest.Select(b => b.Ids));
        Assert.Equal(second.Skip(1).Select(b => b.Images), rest.Select(b => b.Images));
    }

    [Fact]
    public void HoldingEverySlot_FailsClearly_InsteadOfHanging()
    {
        RequireGpu();
        using var records = new TestRecords(30);
        using DataLoader loader = DataLoader.Create(Options(records, threads: 1) with { PrefetchDepth = 0, Device = LoaderDevice.Cuda() });
        using IEnumerator<Batch> batches = loader.GetEnumerator();
        Assert.True(batches.MoveNext());
        using Batch a = batches.Current;
        Assert.True(batches.MoveNext());
        using Batch b = batches.Current;
        Assert.NotEqual(Assert.IsType<DeviceBatch>(a).DevicePointer, Assert.IsType<DeviceBatch>(b).DevicePointer);
        var error = Assert.Throws<InvalidOperationException>(() => batches.MoveNext());
        Assert.Contains("dispose each Batch", error.Message);
    }

    private static void RequireGpu()
    {
        GpuProbeResult probe = GpuAvailability.Probe();
        if (!probe.IsAvailable)
        {
            Assert.Skip("needs a GPU (runs in tools/device/run-on-device.sh): " + probe.Summary);
        }
    }

    // Pixels as bytes: UInt8 NHWC output, so the comparison is in the 0..255 units of the images.
    private static LoaderOptions Options(TestRecords records, int threads) => new()
    {
        DataDirectory = records.Directory,
        BatchSize = 5,
        Threads = threads,
        Seed = 5,
        Augment = new AugmentOptions { OutputSize = Size, EvalResize = 72 },
        Output = OutputSpec.ImageNet(Size, PixelType.UInt8, PixelLayout.Nhwc),
        Log = _ => { },
    };

    /// <summary>Copies each batch to the host (after waiting for it) and disposes it.</summary>
    private static List<SeenBatch> Epoch(DataLoader loader)
    {
        var seen = new List<SeenBatch>();
        foreach (DeviceBatch batch in loader)
        {
            using (batch)
            {
                Assert.NotEqual(0, batch.ReadyEvent);
                batch.Synchronize();
                byte[] images = new byte[batch.ImageBytes];
                batch.CopyToHost(images);
                seen.Add(new SeenBatch(batch.Epoch, batch.Position, batch.SampleIds.ToArray(), batch.Labels.ToArray(), images, batch.Shape));
            }
        }

        return seen;
    }
}
