namespace Loader.Tools.Bench.Tests;

/// <summary>The comparison's arithmetic: medians of the runs and our ratio against the fastest peer.</summary>
public class CompareRowTests
{
    [Fact]
    public void Create_RatioIsAgainstTheFastestPeersMedian_NotTheFirstPeer()
    {
        CompareRow row = CompareRow.Create("train", 2, [1000, 1200, 1100],
            [
                (PeerPipelines.TorchvisionPil, [400, 410, 390]),
                (PeerPipelines.TorchvisionIo, [420, 300, 430]),
                (PeerPipelines.OpenCv, [500, 480, 550]),
            ], oursRssMegabytes: 700, slotMegabytes: 617);

        Assert.Equal(1100, row.OursImagesPerSecond);
        Assert.Equal(PeerPipelines.OpenCv, row.FastestPeer);
        Assert.Equal(500, row.FastestPeerImagesPerSecond);
        Assert.Equal(2.2, row.RatioVsFastestPeer);
        Assert.Equal([400.0, 420.0, 500.0], row.Peers.Select(p => p.ImagesPerSecond));
        Assert.Equal([2.75, 2.62, 2.2], row.Peers.Select(p => p.OursOverThis));
        Assert.Equal([420.0, 300.0, 430.0], row.Peers[1].Runs);
        Assert.Equal([1000.0, 1200.0, 1100.0], row.OursRuns);
    }

    [Fact]
    public void Create_FastestIsDecidedByMedianNotByTheBestRun()
    {
        // torchvision-io has the single best run, PIL the better median.
        CompareRow row = CompareRow.Create("eval", 1, [900],
            [(PeerPipelines.TorchvisionPil, [450, 460, 455]), (PeerPipelines.TorchvisionIo, [300, 320, 990])], 1, 1);

        Assert.Equal(PeerPipelines.TorchvisionPil, row.FastestPeer);
        Assert.Equal(Math.Round(900 / 455.0, 2), row.RatioVsFastestPeer);
    }

    [Fact]
    public void Create_WhenWeAreSlower_RatioIsBelowOne()
    {
        CompareRow row = CompareRow.Create("train", 1, [300], [(PeerPipelines.OpenCv, [400])], 1, 1);
        Assert.Equal(0.75, row.RatioVsFastestPeer);
    }

    [Fact]
    public void Create_OnATie_TheFirstListedPeerIsTheFastest()
    {
        CompareRow row = CompareRow.Create("train", 1, [800], [(PeerPipelines.TorchvisionIo, [400]), (PeerPipelines.OpenCv, [400])], 1, 1);
        Assert.Equal(PeerPipelines.TorchvisionIo, row.FastestPeer);
    }

    [Fact]
    public void Create_ALoaderWithoutRuns_Throws()
    {
        Assert.Throws<ArgumentException>(() => CompareRow.Create("train", 1, [800], [(PeerPipelines.OpenCv, [])], 1, 1));
        Assert.Throws<ArgumentException>(() => CompareRow.Create("train", 1, [], [(PeerPipelines.OpenCv, [400])], 1, 1));
        Assert.Throws<ArgumentException>(() => CompareRow.Create("train", 1, [800], [], 1, 1));
    }

    [Theory]
    [InlineData(new double[] { 5 }, 5)]
    [InlineData(new double[] { 3, 1, 2 }, 2)]
    [InlineData(new double[] { 4, 1, 3, 2 }, 2.5)]
    public void Median_OddAndEvenCounts(double[] values, double expected) => Assert.Equal(expected, CompareRow.Median(values));
}
