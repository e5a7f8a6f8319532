using System.Diagnostics;
using Loader.Augment.Cuda;
using Loader.Pipeline;

namespace Loader.Tools.Bench;

/// <summary>
/// Times the loader the way a training loop uses it: warm-up epochs (untimed; they also touch every slot page),
/// then whole epochs (or their first --max-batches batches) from the first <c>MoveNext</c> to the last batch, each
/// batch read and disposed; optionally from a resumed state and with the page cache dropped first. The GPU backend
/// waits for each batch to be written on the GPU before disposing it (a consumer that takes no GPU time), so its
/// figure is what nvJPEG + the augment kernel + the host side sustain together.
/// </summary>
internal static class BenchRunner
{
    public static BenchResult Run(BenchSettings settings)
    {
        LoaderOptions options = Options(settings);
        LoaderState? resume = settings.ResumeAt is { } at ? new LoaderState(settings.Seed, at.Epoch, at.Position) : null;
        long openStart = Stopwatch.GetTimestamp();
        using DataLoader loader = DataLoader.Create(options, resume);
        double openSeconds = Stopwatch.GetElapsedTime(openStart).TotalSeconds;
        BenchResult result = Measure(settings, loader, openSeconds);
        if (!loader.Device.IsCuda)
        {
            return result;
        }

        (long hardware, long hybrid, long fallback) = loader.Metrics.GpuDecodes;
        return result with
        {
            GpuDevice = loader.Device.ToString(),
            GpuHardwareDecoder = loader.Metrics.UsesHardwareDecoder,
            GpuHardwareUnavailableReason = loader.Metrics.HardwareUnavailableReason,
            GpuDecodedHardware = hardware,
            GpuDecodedHybrid = hybrid,
            GpuDecodedCpuFallback = fallback,
        };
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
            Device = settings.Backend == "gpu" ? LoaderDevice.Cuda() : LoaderDevice.Cpu,
            ReadAheadSamples = settings.ReadAhead ?? LoaderOptions.DefaultReadAheadSamples,
            GpuDecode = settings.GpuSplice ? null : new GpuDecodeOptions { SpliceRestartIntervals = false },
        };

    private static BenchResult Measure(BenchSettings settings, DataLoader loader, double openSeconds)
    {
        LoaderMetrics m = loader.Metrics;
        long hostSlotBytes = loader.Device.IsCuda ? 0 : loader.SlotBytes;
        // A resumed run is timed from where it resumes: warming up would move the loader past that point.
        int warmup = settings.ResumeAt is null ? settings.WarmupEpochs : 0;
        for (int e = 0; e < warmup; e++)
        {
            Consume(loader, settings.MaxBatches, out _);
        }

        double rssAfterWarmup = RssMegabytes();
        m.Reset();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var epochSeconds = new double[settings.Epochs];
        var rss = new double[settings.Epochs];
        var firstBatch = new double[settings.Epochs];
        long images = 0;
        bool? dropped = null;
        for (int e = 0; e < settings.Epochs; e++)
        {
            if (settings.DropCaches)
            {
                dropped = PageCache.TryDrop(out string? why) && dropped != false;
                if (why is not null)
                {
                    Console.Error.WriteLine($"loader-bench: --drop-caches: {why}");
                }
            }

            long start = Stopwatch.GetTimestamp();
            images += Consume(loader, settings.MaxBatches, out double first);
            epochSeconds[e] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            firstBatch[e] = first;
            rss[e] = RssMegabytes();
        }

        double allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        double timed = epochSeconds.Sum();
        double slotMb = loader.SlotBytes / 1e6;
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
            DatasetImages = loader.DatasetSize,
            BatchesPerEpoch = loader.BatchesPerEpoch,
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
            OpenSeconds = Math.Round(openSeconds, 4),
            FirstBatchSeconds = [.. firstBatch.Select(s => Math.Round(s, 4))],
            MaxBatches = settings.MaxBatches,
            ResumeAt = settings.ResumeAt is { } at ? $"{at.Epoch}:{at.Position}" : null,
            CachesDropped = dropped,
            DecodedSamples = m.Splicing.Samples,
            SplicedSamples = m.Splicing.SplicedSamples,
            SplicedEntropyFraction = Math.Round(m.Splicing.SplicedEntropyFraction, 4),
            ReadAheadSamples = settings.ReadAhead ?? LoaderOptions.DefaultReadAheadSamples,
            GpuSplice = settings.Backend == "gpu" ? settings.GpuSplice : null,
        };
    }

    /// <summary>
    /// One epoch (or its first <paramref name="maxBatches"/> batches): reads one value of every host batch (so
    /// nothing is skipped lazily), waits (host-side) until each device batch is written, and disposes it.
    /// </summary>
    private static long Consume(DataLoader loader, int maxBatches, out double firstBatchSeconds)
    {
        long images = 0;
        int batches = 0;
        float check = 0;
        long start = Stopwatch.GetTimestamp();
        firstBatchSeconds = 0;
        foreach (Batch batch in loader)
        {
            using (batch)
            {
                if (batches == 0)
                {
                    firstBatchSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                }

                images += batch.Count;
                if (batch is HostBatch host)
                {
                    check += host.Images[0];
                }
                else
                {
                    ((DeviceBatch)batch).Synchronize();
                }
            }

            if (++batches == maxBatches)
            {
                break;
            }
        }

        GC.KeepAlive(check);
        return images;
    }

    private static double RssMegabytes()
    {
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64 / 1e6;
    }
}
