using System.Diagnostics;
using Loader.Pipeline;
using Loader.Pipeline.Gpu;

namespace Loader.Tools.Bench;

/// <summary>
/// Times the loader the way a training loop uses it: warm-up epochs (untimed; they also touch every slot page),
/// then whole epochs from the first <c>MoveNext</c> to the last batch, each batch read and disposed. The GPU backend
/// waits for each batch to be written on the GPU before disposing it (a consumer that takes no GPU time), so its
/// figure is what nvJPEG + the augment kernel + the host side sustain together.
/// </summary>
internal static class BenchRunner
{
    public static BenchResult Run(BenchSettings settings)
    {
        LoaderOptions options = Options(settings);
        if (settings.Backend == "gpu")
        {
            using GpuDataLoader gpu = GpuDataLoader.Create(options);
            BenchResult result = Measure(settings, () => ConsumeOnGpu(gpu), gpu.Metrics, gpu.DatasetSize, gpu.BatchesPerEpoch,
                                         gpu.SlotBytes, hostSlotBytes: 0);
            (long hardware, long hybrid, long fallback) = gpu.DecodeCounts;
            return result with
            {
                GpuDevice = gpu.Device.Name,
                GpuHardwareDecoder = gpu.UsesHardwareDecoder,
                GpuHardwareUnavailableReason = gpu.HardwareUnavailableReason,
                GpuDecodedHardware = hardware,
                GpuDecodedHybrid = hybrid,
                GpuDecodedCpuFallback = fallback,
            };
        }

        using DataLoader loader = DataLoader.Create(options);
        return Measure(settings, () => Consume(loader), loader.Metrics, loader.DatasetSize, loader.BatchesPerEpoch,
                       loader.SlotBytes, loader.SlotBytes);
    }

    private static LoaderOptions Options(BenchSettings settings) =>
        new()
        {
            DataDirectory = settings.DataDirectory,
            BatchSize = settings.BatchSize,
            Threads = settings.Threads,
            Train = !settings.Eval,
            Seed = settings.Seed,
            PrefetchDepth = settings.PrefetchDepth,
            LastBatch = LastBatchPolicy.Partial,
        };

    private static BenchResult Measure(BenchSettings settings, Func<long> consumeEpoch, LoaderMetrics m, long datasetSize,
                                       int batchesPerEpoch, long slotBytes, long hostSlotBytes)
    {
        for (int e = 0; e < settings.WarmupEpochs; e++)
        {
            consumeEpoch();
        }

        double rssAfterWarmup = RssMegabytes();
        m.Reset();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var epochSeconds = new double[settings.Epochs];
        var rss = new double[settings.Epochs];
        long images = 0;
        for (int e = 0; e < settings.Epochs; e++)
        {
            long start = Stopwatch.GetTimestamp();
            images += consumeEpoch();
            epochSeconds[e] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            rss[e] = RssMegabytes();
        }

        double allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        double timed = epochSeconds.Sum();
        double slotMb = slotBytes / 1e6;
        return new BenchResult
        {
            Mode = settings.Eval ? "eval" : "train",
            Backend = settings.Backend,
            ImagesPerSecond = Math.Round(images / timed, 2),
            TimedImages = images,
            TimedSeconds = Math.Round(timed, 4),
            EpochSeconds = [.. epochSeconds.Select(s => Math.Round(s, 4))],
            Epochs = settings.Epochs,
            WarmupEpochs = settings.WarmupEpochs,
            DatasetImages = datasetSize,
            BatchesPerEpoch = batchesPerEpoch,
            BatchSize = settings.BatchSize,
            Threads = settings.Threads,
            PrefetchDepth = settings.PrefetchDepth,
            ReadMsPerImage = Math.Round(m.ReadTime.TotalMilliseconds / images, 4),
            DecodeMsPerImage = Math.Round(m.DecodeTime.TotalMilliseconds / images, 4),
            WorkerBusyFraction = Math.Round((m.ReadTime + m.DecodeTime).TotalSeconds / (timed * settings.Threads), 3),
            ConsumerWaitSeconds = Math.Round(m.ConsumerWaitTime.TotalSeconds, 4),
            SlotWaitSeconds = Math.Round(m.SlotWaitTime.TotalSeconds, 4),
            AverageQueueDepth = Math.Round(m.AverageQueueDepth, 2),
            SkippedSamples = m.SkippedSamples,
            SlotMegabytes = Math.Round(slotMb, 1),
            RssAfterWarmupMegabytes = Math.Round(rssAfterWarmup, 1),
            RssPerEpochMegabytes = [.. rss.Select(r => Math.Round(r, 1))],
            RssMaxMegabytes = Math.Round(rss.Max(), 1),
            RssOverSlotsMegabytes = Math.Round(rss.Max() - (hostSlotBytes / 1e6), 1),
            AllocatedBytesPerImage = Math.Round(allocated / images, 1),
        };
    }

    /// <summary>One epoch: reads one value of every batch (so nothing is skipped lazily) and disposes it.</summary>
    private static long Consume(DataLoader loader)
    {
        long images = 0;
        float check = 0;
        foreach (Batch batch in loader)
        {
            using (batch)
            {
                images += batch.Count;
                check += batch.Images[0];
            }
        }

        GC.KeepAlive(check);
        return images;
    }

    /// <summary>One GPU epoch: waits (host-side) until each batch is written, then disposes it.</summary>
    private static long ConsumeOnGpu(GpuDataLoader loader)
    {
        long images = 0;
        foreach (Batch batch in loader)
        {
            using (batch)
            {
                loader.Synchronize(batch);
                images += batch.Count;
            }
        }

        return images;
    }

    private static double RssMegabytes()
    {
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64 / 1e6;
    }
}
