using Loader.Pipeline.Tests.Support;

namespace Loader.Pipeline.Tests.Execution;

/// <summary>The read-ahead issues every sample's read once, in the order the workers will decode them.</summary>
public sealed class ReadAheadTests
{
    /// <summary>Decoding is slow (2 ms a sample) next to hinting, so the read-ahead stays ahead and hints each
    /// sample, once, in the order the workers take them. The window is 64 samples, 64 ms of the two workers' time:
    /// the read-ahead thread (which sleeps 1 ms when a window ahead) would have to go unscheduled that long for the
    /// workers to overtake it, and then it rightly skips ahead (the next test). With 16 samples (8 ms at 1 ms a
    /// sample) a fresh-clone CI run on this 2-vCPU VM once saw one sample skipped.</summary>
    [Fact]
    public void ReadAhead_HintsEverySampleOnce_InPlanOrder()
    {
        var source = new PatternSampleSource(203) { DelayPerSample = TimeSpan.FromMilliseconds(2) };
        using DataLoader loader = LoaderRuns.Create(LoaderRuns.Options(threads: 2) with { ReadAheadSamples = 64 }, source);
        List<SeenBatch> epoch = LoaderRuns.Epoch(loader);
        Assert.Equal(epoch.SelectMany(b => b.Ids), source.Prefetched);
    }

    /// <summary>However the race goes, hints are never repeated and never out of plan order.</summary>
    [Fact]
    public void ReadAhead_WhenTheWorkersAreFaster_SkipsAheadInsteadOfHintingTooLate()
    {
        var source = new PatternSampleSource(5_000);
        using DataLoader loader = LoaderRuns.Create(LoaderRuns.Options(threads: 2) with { ReadAheadSamples = 8 }, source);
        List<long> order = [.. LoaderRuns.Epoch(loader).SelectMany(b => b.Ids)];
        var position = order.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        int[] hinted = [.. source.Prefetched.Select(id => position[id])];
        Assert.Equal(hinted.Order(), hinted);
        Assert.Equal(hinted.Length, hinted.Distinct().Count());
    }

    [Fact]
    public void ReadAhead_Zero_IssuesNothing()
    {
        var source = new PatternSampleSource(50);
        using DataLoader loader = LoaderRuns.Create(LoaderRuns.Options() with { ReadAheadSamples = 0 }, source);
        Assert.Equal(50, LoaderRuns.Epoch(loader).Sum(b => b.Ids.Length));
        Assert.Empty(source.Prefetched);
    }

    [Fact]
    public void ReadAhead_OfRealRecords_DeliversTheSameBatches()
    {
        using var records = new TestRecords(30);
        var options = new LoaderOptions
        {
            DataDirectory = records.Directory, BatchSize = 4, Threads = 2, Seed = 3, Log = _ => { },
            Augment = new Augment.AugmentOptions { OutputSize = 16, EvalResize = 18 }, Output = Augment.OutputSpec.ImageNet(16),
        };
        using DataLoader plain = DataLoader.Create(options with { ReadAheadSamples = 0 });
        using DataLoader ahead = DataLoader.Create(options with { ReadAheadSamples = 8 });
        LoaderRuns.AssertSame(LoaderRuns.Epoch(plain), LoaderRuns.Epoch(ahead));
    }
}
