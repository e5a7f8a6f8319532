namespace Loader.Tools.Bench;

/// <summary>
/// The PNG of <c>compare</c>: images/s against threads (ScottPlot), one line per loader and mode: ours and each
/// peer in its own colour, training solid, evaluation dashed.
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
            loaders.Add((PeerPipelines.Label(peer) + " DataLoader", r => r.Peers.Single(p => p.Peer == peer).ImagesPerSecond));
        }

        for (int i = 0; i < loaders.Count; i++)
        {
            ScottPlot.Color color = ScottPlot.Palette.Default.GetColor(i);
            foreach (IGrouping<string, CompareRow> mode in rows.GroupBy(r => r.Mode))
            {
                CompareRow[] ordered = [.. mode.OrderBy(r => r.Threads)];
                var line = plot.Add.Scatter(ordered.Select(r => (double)r.Threads).ToArray(), ordered.Select(loaders[i].ImagesPerSecond).ToArray());
                line.LegendText = $"{loaders[i].Label}, {mode.Key}";
                line.Color = color;
                line.MarkerSize = 8;
                line.LineWidth = i == 0 ? 3 : 1.5f;
                line.LinePattern = mode.Key == "eval" ? ScottPlot.LinePattern.Dashed : ScottPlot.LinePattern.Solid;
                line.MarkerShape = mode.Key == "eval" ? ScottPlot.MarkerShape.OpenSquare : ScottPlot.MarkerShape.FilledCircle;
            }
        }

        plot.Title($"ImageNet sample, batch {batchSize}: images/s delivered to the training loop");
        plot.XLabel("threads (ours) / DataLoader workers (peers)");
        plot.YLabel("images/s");
        double[] ticks = [.. rows.Select(r => (double)r.Threads).Distinct().Order()];
        plot.Axes.Bottom.SetTicks(ticks, [.. ticks.Select(t => t.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        plot.Axes.SetLimitsX(ticks[0] - 0.5, ticks[^1] + 0.5);
        double top = rows.Max(r => Math.Max(r.OursImagesPerSecond, r.Peers.Max(p => p.ImagesPerSecond)));
        plot.Axes.SetLimitsY(0, top * 1.1);
        plot.ShowLegend(ScottPlot.Edge.Right);
        plot.SavePng(path, 1200, 600);
    }
}
