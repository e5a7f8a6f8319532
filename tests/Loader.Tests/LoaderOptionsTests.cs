using Loader.Augment;
using Loader.Pipeline.Tests.Support;

namespace Loader.Pipeline.Tests;

public class LoaderOptionsTests
{
    [Fact]
    public void Defaults_AreImageNetTrainingOnOneRank()
    {
        var options = new LoaderOptions { DataDirectory = "records" };
        Assert.Equal(256, options.BatchSize);
        Assert.Equal(Environment.ProcessorCount, options.Threads);
        Assert.Equal((0, 1), (options.Rank, options.WorldSize));
        Assert.True(options.Train);
        Assert.Equal(LastBatchPolicy.Partial, options.LastBatch);
        Assert.Equal(224 * 224 * 3 * 4, options.Output.BytesPerSample);
        Assert.Equal(4, options.SlotCount);
    }

    [Fact]
    public void Create_RejectsInconsistentOptions_WithAClearMessage()
    {
        var source = new PatternSampleSource(10);
        LoaderOptions valid = LoaderRuns.Options();
        Assert.Throws<ArgumentOutOfRangeException>(() => LoaderRuns.Create(valid with { Rank = 2, WorldSize = 2 }, source));
        Assert.Throws<ArgumentOutOfRangeException>(() => LoaderRuns.Create(valid with { BatchSize = 0 }, source));
        Assert.Throws<ArgumentOutOfRangeException>(() => LoaderRuns.Create(valid with { Threads = 0 }, source));
        var size = Assert.Throws<ArgumentException>(() => LoaderRuns.Create(valid with { Output = OutputSpec.ImageNet(160) }, source));
        Assert.Contains("OutputSize", size.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => LoaderRuns.Create(valid, source, new LoaderState(17, 0, 11)));
    }

    [Fact]
    public void BatchesPerEpoch_FollowsTheLastBatchPolicy()
    {
        var source = new PatternSampleSource(100);
        using DataLoader drop = LoaderRuns.Create(LoaderRuns.Options(batch: 8, last: LastBatchPolicy.Drop), source);
        using DataLoader partial = LoaderRuns.Create(LoaderRuns.Options(batch: 8, last: LastBatchPolicy.Partial), source);
        using DataLoader fill = LoaderRuns.Create(LoaderRuns.Options(batch: 8, last: LastBatchPolicy.Fill), source);
        Assert.Equal((12, 96L), (drop.BatchesPerEpoch, drop.SamplesPerEpoch));
        Assert.Equal((13, 100L), (partial.BatchesPerEpoch, partial.SamplesPerEpoch));
        Assert.Equal((13, 104L), (fill.BatchesPerEpoch, fill.SamplesPerEpoch));
        Assert.All(LoaderRuns.Epoch(fill), b => Assert.Equal(8, b.Ids.Length));
    }
}
