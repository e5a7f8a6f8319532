using System.Buffers.Binary;
using System.Diagnostics;
using Loader.Augment;
using Loader.Pipeline.Tests.Support;

namespace Loader.Pipeline.Tests.Sources;

/// <summary>
/// Samples crafted to hurt (decompression bombs, sets too small to replace from) are bad samples of the one
/// policy: skipped, named once, replaced, within bounded time and memory, and never the end of an epoch.
/// </summary>
public sealed class HostileSampleTests
{
    private const int Size = 32;

    /// <summary>A real small JPEG whose SOF0 now claims <paramref name="width"/> x <paramref name="height"/>.</summary>
    internal static byte[] WithClaimedSize(byte[] jpeg, int width, int height)
    {
        byte[] patched = (byte[])jpeg.Clone();
        for (int i = 2; i + 9 < patched.Length; i++)
        {
            if (patched[i] == 0xFF && patched[i + 1] is 0xC0 or 0xC1 or 0xC2)
            {
                BinaryPrimitives.WriteUInt16BigEndian(patched.AsSpan(i + 5), (ushort)height);
                BinaryPrimitives.WriteUInt16BigEndian(patched.AsSpan(i + 7), (ushort)width);
                return patched;
            }
        }

        throw new InvalidOperationException("no SOF marker in the test JPEG");
    }

    [Fact]
    public void ADecompressionBomb_IsSkippedAndNamed_BeforeAnyPixelIsAllocated()
    {
        byte[] bomb = WithClaimedSize(TestRecords.Jpeg(48, 40, 3), 65500, 65500);
        using var records = new TestRecords(10, imageOverride: i => i == 3 ? bomb : null);
        var log = new List<string>();
        using DataLoader loader = DataLoader.Create(Options(records) with { Log = line => { lock (log) { log.Add(line); } } });

        long peakBefore = Process.GetCurrentProcess().PeakWorkingSet64;
        var clock = Stopwatch.StartNew();
        List<SeenBatch> epoch = LoaderRuns.Epoch(loader);
        clock.Stop();
        long peakAfter = Process.GetCurrentProcess().PeakWorkingSet64;

        Assert.DoesNotContain(3L, epoch.SelectMany(b => b.Ids));
        Assert.Equal(10, epoch.Sum(b => b.Ids.Length)); // replaced: every batch full
        string line = Assert.Single(log);
        Assert.Contains("img_003.JPEG", line);
        Assert.Contains("record 3", line);
        Assert.Contains("65500x65500", line);
        Assert.Contains("MaxPixels", line);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the epoch took {clock.Elapsed}");
        Assert.True(peakAfter - peakBefore < 300L << 20, $"peak memory grew by {(peakAfter - peakBefore) >> 20} MB");
    }

    [Fact]
    public void TheLoadersPixelLimit_IsAnOption()
    {
        using var records = new TestRecords(6);
        var log = new List<string>();
        // Every test image is at least 40x30 = 1200 pixels; a limit of 1000 makes each one a bad sample.
        using DataLoader loader = DataLoader.Create(Options(records) with { MaxPixels = 1000, Log = line => { lock (log) { log.Add(line); } } });
        var error = Assert.Throws<InvalidDataException>(() => LoaderRuns.Epoch(loader));
        Assert.Contains("every one of the 6 records", error.Message);
        Assert.Equal(6, log.Count);
    }

    [Fact]
    public void OneBadRecord_InABatchAsLargeAsTheDataSet_IsReplacedByARepeat()
    {
        // 100 samples, batch 100: no sample outside the batch can replace the bad one, so a good one repeats.
        var source = new PatternSampleSource(100) { BadIds = [42] };
        using DataLoader loader = LoaderRuns.Create(LoaderRuns.Options(batch: 100), source);
        List<SeenBatch> epoch = LoaderRuns.Epoch(loader);
        long[] ids = Assert.Single(epoch).Ids;
        Assert.Equal(100, ids.Length);
        Assert.DoesNotContain(42L, ids);
        Assert.Equal(99, ids.Distinct().Count());
        Assert.Equal(1, loader.Metrics.BadRecords);

        // Deterministic: the same repeat whatever the thread count.
        using DataLoader again = LoaderRuns.Create(LoaderRuns.Options(threads: 1, batch: 100), new PatternSampleSource(100) { BadIds = [42] });
        Assert.Equal(ids, Assert.Single(LoaderRuns.Epoch(again)).Ids);
    }

    [Fact]
    public void ADataSetWithOneGoodRecord_StillFillsEveryBatch()
    {
        var source = new PatternSampleSource(10) { BadIds = [0, 1, 2, 3, 4, 6, 7, 8, 9] };
        using DataLoader loader = LoaderRuns.Create(LoaderRuns.Options(batch: 4), source);
        List<SeenBatch> first = LoaderRuns.Epoch(loader);
        List<SeenBatch> second = LoaderRuns.Epoch(loader);
        Assert.All(first.Concat(second).SelectMany(b => b.Ids), id => Assert.Equal(5L, id));
        Assert.Equal(10, first.Sum(b => b.Ids.Length));
        Assert.Equal(9, loader.Metrics.BadRecords); // each bad record reported once, over both epochs
    }

    /// <summary>A set with a shard gone and no manifest is refused with one line; AllowPartial takes what is there
    /// and says so in the log.</summary>
    [Fact]
    public void AnIncompleteSet_IsRefused_UnlessAllowPartial_WhichSaysWhatIsMissing()
    {
        using var records = new TestRecords(12, shards: 3);
        File.Delete(records.ShardOf(11));
        var error = Assert.Throws<Loader.Records.RecordFormatException>(() => DataLoader.Create(Options(records)));
        Assert.Contains("missing", error.Message);
        Assert.DoesNotContain('\n', error.Message);

        var log = new List<string>();
        using DataLoader loader = DataLoader.Create(Options(records) with { AllowPartial = true, Log = line => { lock (log) { log.Add(line); } } });
        Assert.Equal(8, loader.DatasetSize);
        Assert.Contains(log, line => line.StartsWith("loader: PARTIAL record set", StringComparison.Ordinal));
    }

    private static LoaderOptions Options(TestRecords records) => new()
    {
        DataDirectory = records.Directory,
        BatchSize = 5,
        Threads = 2,
        Seed = 5,
        Augment = new AugmentOptions { OutputSize = Size, EvalResize = 36 },
        Output = OutputSpec.ImageNet(Size),
        Log = _ => { },
    };
}
