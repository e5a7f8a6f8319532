namespace Loader.Tools.Bench;

/// <summary>The PNG of <c>compare</c>: images/s against threads (ScottPlot), one line per loader and mode.</summary>
internal static class ComparePlot
{
    public static void Save(IReadOnlyList<CompareRow> rows, int batchSize, string path)
    {
        var plot = new ScottPlot.Plot();
        foreach (IGrouping<string, CompareRow> mode in rows.GroupBy(r => r.Mode))
        {
            double[] threads = [.. mode.Select(r => (double)r.Threads)];
            var ours = plot.Add.Scatter(threads, mode.Select(r => r.OursImagesPerSecond).ToArray());
            ours.LegendText = $".NET loader, {mode.Key}";
            var theirs = plot.Add.Scatter(threads, mode.Select(r => r.TorchvisionImagesPerSecond).ToArray());
            theirs.LegendText = $"torchvision DataLoader, {mode.Key}";
            theirs.LinePattern = ScottPlot.LinePattern.Dashed;
        }

        plot.Title($"ImageNet sample, batch {batchSize}: images/s delivered to the training loop");
        plot.XLabel("threads (ours) / workers (torchvision)");
        plot.YLabel("images/s");
        double[] ticks = [.. rows.Select(r => (double)r.Threads).Distinct().Order()];
        plot.Axes.Bottom.SetTicks(ticks, [.. ticks.Select(t => t.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        plot.Axes.SetLimitsX(ticks[0] - 0.5, ticks[^1] + 0.5);
        plot.Axes.SetLimitsY(0, rows.Max(r => Math.Max(r.OursImagesPerSecond, r.TorchvisionImagesPerSecond)) * 1.1);
        plot.ShowLegend(ScottPlot.Edge.Bottom);
        plot.SavePng(path, 900, 560);
    }
}
