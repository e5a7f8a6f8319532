using System.Runtime.InteropServices;
using Loader.Augment;
using Loader.Pipeline.Tests.Support;

namespace Loader.Pipeline.Tests;

/// <summary>The production loader: real record shards, the real reader and the real JPEG decoder.</summary>
public sealed class RecordsEndToEndTests
{
    private const int Size = 32;

    [Fact]
    public void TrainingEpoch_DeliversEveryRecordOnce_WithItsLabel_AsNormalizedImages()
    {
        using var records = new TestRecords(23);
        using DataLoader loader = DataLoader.Create(Options(records, threads: 2));
        List<SeenBatch> epoch = LoaderRuns.Epoch(loader);

        Assert.Equal(5, epoch.Count);
        Assert.Equal(Enumerable.Range(0, 23).Select(i => (long)i), epoch.SelectMany(b => b.Ids).Order());
        float low = (0 - 0.485f) / 0.229f, high = (1 - 0.406f) / 0.225f;
        foreach (SeenBatch batch in epoch)
        {
            Assert.Equal([batch.Ids.Length, 3, Size, Size], batch.Shape);
            Assert.Equal(batch.Ids.Select(id => (int)(id % TestRecords.Classes)), batch.Labels);
            ReadOnlySpan<float> pixels = MemoryMarshal.Cast<byte, float>(batch.Images);
            Assert.Equal(batch.Ids.Length * 3 * Size * Size, pixels.Length);
            foreach (float value in pixels)
            {
                Assert.InRange(value, low - 0.01f, high + 0.01f);
            }
        }

        Assert.Equal(new LoaderState(5, 1, 0), loader.State);
    }

    [Fact]
    public void SameSeed_GivesByteIdenticalBatches_WithOneOrThreeThreads()
    {
        using var records = new TestRecords(17);
        using DataLoader one = DataLoader.Create(Options(records, threads: 1));
        using DataLoader three = DataLoader.Create(Options(records, threads: 3));
        LoaderRuns.AssertSame(LoaderRuns.Epoch(one), LoaderRuns.Epoch(three));
        List<SeenBatch> secondEpoch = LoaderRuns.Epoch(one);
        Assert.All(secondEpoch, b => Assert.Equal(1, b.Epoch));
    }

    [Fact]
    public void Resume_FromTheMiddleOfAnEpoch_EqualsTheUninterruptedRun()
    {
        using var records = new TestRecords(21);
        using DataLoader full = DataLoader.Create(Options(records, threads: 2));
        List<SeenBatch> expected = LoaderRuns.Epoch(full);

        LoaderState saved;
        using (DataLoader first = DataLoader.Create(Options(records, threads: 2)))
        {
            LoaderRuns.Epoch(first, maxBatches: 2);
            saved = first.State;
        }

        Assert.Equal(new LoaderState(5, 0, 10), saved);
        using DataLoader resumed = DataLoader.Create(Options(records, threads: 1), saved);
        LoaderRuns.AssertSame(expected.Skip(2).ToList(), LoaderRuns.Epoch(resumed));
    }

    /// <summary>The loader's metrics count the samples its decoders spliced (restart-interval records) and the share
    /// of entropy-coded bytes they decoded; plain records are decoded whole.</summary>
    [Fact]
    public void SplicingMetrics_CountTheSplicedSamples_AndTheBytesDecoded()
    {
        using var plain = new TestRecords(10, imageOverride: i => TestRecords.Jpeg(320, 240, i));
        using var spliced = new TestRecords(10, imageOverride: i =>
            Loader.Augment.Jpeg.RestartTranscoder.Transcode(TestRecords.Jpeg(320, 240, i), Loader.Augment.Jpeg.RestartMode.Auto));
        using DataLoader a = DataLoader.Create(Options(plain, threads: 2));
        using DataLoader b = DataLoader.Create(Options(spliced, threads: 2));
        LoaderRuns.Epoch(a);
        LoaderRuns.Epoch(b);
        Assert.Equal(10, a.Metrics.Splicing.Samples);
        Assert.Equal(0, a.Metrics.Splicing.SplicedSamples);
        Assert.Equal(10, b.Metrics.Splicing.Samples);
        Assert.InRange(b.Metrics.Splicing.SplicedSamples, 1, 10);
        Assert.InRange(b.Metrics.Splicing.SplicedEntropyFraction, 0.01, 1.0);
    }

    [Fact]
    public void Evaluation_ReadsTheRecordsInStoredOrder()
    {
        using var records = new TestRecords(12);
        using DataLoader loader = DataLoader.Create(Options(records, threads: 2) with { Train = false });
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (long)i), LoaderRuns.Epoch(loader).SelectMany(b => b.Ids));
    }

    [Fact]
    public void CorruptRecords_AreSkippedCountedAndLogged_NeverCrashingOrHanging()
    {
        using var records = new TestRecords(20, imageOverride: i => i == 11 ? "this is not a JPEG"u8.ToArray() : null);
        records.CorruptPayload(4); // CRC failure
        var log = new List<string>();
        using DataLoader loader = DataLoader.Create(Options(records, threads: 2) with { Log = line => { lock (log) { log.Add(line); } } });

        List<SeenBatch> epoch = LoaderRuns.Epoch(loader);
        Assert.Equal(4, epoch.Count);
        Assert.All(epoch, b => Assert.Equal(5, b.Ids.Length)); // shapes unchanged
        Assert.DoesNotContain(4L, epoch.SelectMany(b => b.Ids));
        Assert.DoesNotContain(11L, epoch.SelectMany(b => b.Ids));
        Assert.Equal(2, loader.Metrics.BadRecords);
        Assert.True(loader.Metrics.SkippedSamples >= 2);
        Assert.Equal(2, log.Count);
        Assert.Contains(log, line => line.Contains(Path.GetFileName(records.ShardOf(4))) && line.Contains("img_004.JPEG") && line.Contains("CRC"));
        Assert.Contains(log, line => line.Contains("img_011.JPEG"));
    }

    [Fact]
    public void Strict_StopsAtTheFirstCorruptRecord_NamingShardAndRecord()
    {
        using var records = new TestRecords(10);
        records.CorruptPayload(7);
        using DataLoader loader = DataLoader.Create(Options(records, threads: 2) with { Strict = true });
        var error = Assert.Throws<BadSampleException>(() => LoaderRuns.Epoch(loader));
        Assert.Equal(7, error.SampleId);
        Assert.Contains(Path.GetFileName(records.ShardOf(7)), error.Message);
        Assert.Contains("record 2", error.Message); // shard 1 holds records 5..9
    }

    private static LoaderOptions Options(TestRecords records, int threads) => new()
    {
        DataDirectory = records.Directory,
        BatchSize = 5,
        Threads = threads,
        Seed = 5,
        Augment = new AugmentOptions { OutputSize = Size, EvalResize = 36 },
        Output = OutputSpec.ImageNet(Size),
    };
}
