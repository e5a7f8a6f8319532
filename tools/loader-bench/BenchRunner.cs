using System.Diagnostics;
using Loader.Pipeline;

namespace Loader.Tools.Bench;

/// <summary>
/// Times the loader the way a training loop uses it: warm-up epochs (untimed; they also touch every slot page),
/// then whole epochs from the first <c>MoveNext</c> to the last batch, each batch read and disposed.
/// </summary>
internal static class BenchRunner
{
    public static BenchResult Run(BenchSettings settings)
    {
        var options = new LoaderOptions
        {
            DataDirectory = settings.DataDirectory,
            BatchSize = settings.BatchSize,
            Threads = settings.Threads,
            Train = !settings.Eval,
            Seed = settings.Seed,
            PrefetchDepth = settings.PrefetchDepth,
            LastBatch = LastBatchPolicy.Partial,
        };
        using DataLoader loader = DataLoader.Create(options);
        for (int e = 0; e < settings.WarmupEpochs; e++)
        {
            Consume(loader);
        }

        double rssAfterWarmup = RssMegabytes();
        loader.Metrics.Reset();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var epochSeconds = new double[settings.Epochs];
        var rss = new double[settings.Epochs];
        long images = 0;
        for (int e = 0; e < settings.Epochs; e++)
        {
            long start = Stopwatch.GetTimestamp();
            images += Consume(loader);
            epochSeconds[e] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            rss[e] = RssMegabytes();
        }

        double allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        double timed = epochSeconds.Sum();
        LoaderMetrics m = loader.Metrics;
        double slotMb = loader.SlotBytes / 1e6;
        return new BenchResult
        {
            Mode = settings.Eval ? "eval" : "train",
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
            RssOverSlotsMegabytes = Math.Round(rss.Max() - slotMb, 1),
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

    private static double RssMegabytes()
    {
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64 / 1e6;
    }
}
