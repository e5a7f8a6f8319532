using Loader.Trainer.Logging;
using Loader.Trainer.Training;

namespace Loader.Trainer.Tests.Logging;

public sealed class CurvePlotterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("plots-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Three epochs is where an automatic axis puts ticks at 1.5 and 2.5: the epoch axis must not.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(90)]
    public void Create_FewOrManyEpochs_EpochAxisHasWholeEpochTicksOnly(int epochs)
    {
        double[] x = [.. Enumerable.Range(1, epochs).Select(e => (double)e)];
        double[] loss = [.. x.Select(e => 2.0 / e)];
        ScottPlot.Plot plot = CurvePlotter.Create("Loss", "loss", x, ("train", loss));
        plot.RenderInMemory(800, 500);

        ScottPlot.Tick[] ticks = [.. plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor)];
        Assert.NotEmpty(ticks);
        Assert.All(ticks, t => Assert.Equal(Math.Round(t.Position), t.Position));
    }

    [Fact]
    public void Save_History_WritesFourPngFiles()
    {
        EpochMetrics[] history = [.. Enumerable.Range(1, 3).Select(e => new EpochMetrics
        {
            Epoch = e, TrainLoss = 2.0 / e, ValTop1 = 10 * e, ValTop5 = 30 * e, ValLoss = 2.5 / e,
            ImagesPerSec = 100, LearningRate = 0.1 / e, Seconds = 1, GlobalStep = 10 * e,
        })];
        IReadOnlyList<string> written = CurvePlotter.Save(history, _directory);
        Assert.Equal(4, written.Count);
        // A PNG's signature, and more than a header.
        Assert.All(written, path => Assert.Equal((byte[])[0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(path)[..4]));
    }
}
