namespace Loader.Tools.Bench.Tests;

/// <summary>The comparison's PNG: every loader's bar, for one or several thread counts.</summary>
public class ComparePlotTests
{
    [Theory]
    [InlineData(new[] { 2 })]
    [InlineData(new[] { 1, 2, 4 })]
    public void Save_WritesAPng_ForEveryThreadCount(int[] threads)
    {
        using var dir = new Records.Tests.TempDirectory();
        CompareRow[] rows =
        [
            .. new[] { "train", "eval" }.SelectMany(mode => threads.Select(t => CompareRow.Create(mode, t, [800.0 * t],
                [.. PeerPipelines.All.Select((p, i) => (p, (IReadOnlyList<double>)[200.0 * t + (10 * i)]))], 700, 617))),
        ];
        string path = dir.Combine("compare.png");

        ComparePlot.Save(rows, 256, path);

        byte[] png = File.ReadAllBytes(path);
        Assert.True(png.Length > 10_000);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
    }
}
