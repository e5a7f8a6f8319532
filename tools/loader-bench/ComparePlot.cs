using System.Globalization;

namespace Loader.Tools.Bench;

/// <summary>
/// The PNG of <c>compare</c> (ScottPlot): images/s as grouped bars, one group per mode and thread count, one bar
/// per loader (ours first, then each peer) with its median on top. Bars rather than lines against threads: with
/// one thread count a line plot is a column of overlapping points.
/// </summary>
internal static class ComparePlot
{
    public static void Save(IReadOnlyList<CompareRow> rows, int batchSize, string path)
    {
        var plot = new ScottPlot.Plot();
        string[] peers = [.. rows[0].Peers.Select(p => p.Peer)];
        var loaders = new List<(string Label, Func<CompareRow, double> ImagesPerSecond)> { (".NET loader (ours)", r => r.OursImagesPerSecond) };
        foreach (string peer in peers)
        {
            loaders.Add((PeerPipelines.Label(peer) + " (DataLoader)", r => r.Peers.Single(p => p.Peer == peer).ImagesPerSecond));
        }

        int groupWidth = loaders.Count + 1; // one empty slot between groups
        for (int i = 0; i < loaders.Count; i++)
        {
            ScottPlot.Bar[] bars =
            [
                .. rows.Select((row, group) => new ScottPlot.Bar
                {
                    Position = (group * groupWidth) + i,
                    Value = loaders[i].ImagesPerSecond(row),
                    Label = loaders[i].ImagesPerSecond(row).ToString("N0", CultureInfo.InvariantCulture),
                }),
            ];
            var barPlot = plot.Add.Bars(bars);
            barPlot.Color = ScottPlot.Palette.Default.GetColor(i);
            barPlot.LegendText = loaders[i].Label;
        }

        double[] centers = [.. rows.Select((_, group) => (group * groupWidth) + ((loaders.Count - 1) / 2.0))];
        string[] names = [.. rows.Select(r => $"{r.Mode}, {r.Threads} thread(s) / worker(s)")];
        plot.Axes.Bottom.SetTicks(centers, names);
        plot.Axes.SetLimitsX(-1, (rows.Count * groupWidth) - 1);
        double top = rows.Max(r => Math.Max(r.OursImagesPerSecond, r.Peers.Max(p => p.ImagesPerSecond)));
        plot.Axes.SetLimitsY(0, top * 1.15);
        plot.Title($"ImageNet sample, batch {batchSize}: images/s delivered to the training loop (medians, same run)");
        plot.YLabel("images/s");
        plot.ShowLegend(ScottPlot.Edge.Right);
        plot.SavePng(path, 1200, 600);
    }
}
