using Loader.Trainer.Training;
using ScottPlot;

namespace Loader.Trainer.Logging;

/// <summary>PNG curves at the end of training (ScottPlot): loss, accuracy, learning rate and throughput per epoch.</summary>
public static class CurvePlotter
{
    public static IReadOnlyList<string> Save(IReadOnlyList<EpochMetrics> history, string directory)
    {
        if (history.Count == 0) return [];
        Directory.CreateDirectory(directory);
        double[] epochs = [.. history.Select(m => (double)m.Epoch)];
        var written = new List<string>
        {
            Plot(directory, "loss.png", "Loss", "loss", epochs,
                 ("train", [.. history.Select(m => m.TrainLoss)]),
                 ("validation", [.. history.Select(m => m.ValLoss ?? double.NaN)])),
            Plot(directory, "accuracy.png", "Validation accuracy", "%", epochs,
                 ("top-1", [.. history.Select(m => m.ValTop1 ?? double.NaN)]),
                 ("top-5", [.. history.Select(m => m.ValTop5 ?? double.NaN)])),
            Plot(directory, "lr.png", "Learning rate (end of epoch)", "lr", epochs,
                 ("lr", [.. history.Select(m => m.LearningRate)])),
            Plot(directory, "throughput.png", "Training throughput", "images/s", epochs,
                 ("images/s", [.. history.Select(m => m.ImagesPerSec)])),
        };
        return written;
    }

    private static string Plot(string directory, string file, string title, string yLabel, double[] x,
                               params (string Label, double[] Y)[] series)
    {
        Plot plot = Create(title, yLabel, x, series);
        string path = Path.Combine(directory, file);
        plot.SavePng(path, 800, 500);
        return path;
    }

    /// <summary>One curve plot over whole epochs: the epoch axis has integer ticks only (no "epoch 1.5").</summary>
    internal static Plot Create(string title, string yLabel, double[] x, params (string Label, double[] Y)[] series)
    {
        var plot = new Plot();
        foreach ((string label, double[] y) in series)
        {
            if (y.All(double.IsNaN)) continue;
            var scatter = plot.Add.Scatter(x, y);
            scatter.LegendText = label;
        }
        plot.Title(title);
        plot.XLabel("epoch");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.YLabel(yLabel);
        if (series.Length > 1) plot.ShowLegend();
        return plot;
    }
}
