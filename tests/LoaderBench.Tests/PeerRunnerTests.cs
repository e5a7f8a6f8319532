using System.Text.Json;
using Loader.Records.Tests;

namespace Loader.Tools.Bench.Tests;

/// <summary>
/// The peers themselves (tools/peers/torchvision_loader.py and check_peers.py) on generated JPEGs: every pipeline
/// runs and delivers every image, and its output matches PIL's. Skips, saying why, without Debian's python3-torch,
/// -torchvision, -pil, -numpy and -opencv.
/// </summary>
public class PeerRunnerTests
{
    private static readonly (int, int, bool)[] Sizes = [(320, 240, false), (240, 300, false), (500, 375, true), (1200, 1100, false), (640, 480, false)];

    [Theory]
    [InlineData(PeerPipelines.TorchvisionPil)]
    [InlineData(PeerPipelines.TorchvisionIo)]
    [InlineData(PeerPipelines.OpenCv)]
    [InlineData(PeerPipelines.OpenCvLinear)]
    public void Run_EveryPipeline_DeliversEveryImage_TrainAndEval(string pipeline)
    {
        if (PeerSupport.WhyNotAvailable() is { } reason)
        {
            Assert.Skip(reason);
        }

        using var dir = new TempDirectory();
        PeerSupport.WriteImages(dir.Path, Sizes);
        foreach (bool eval in new[] { false, true })
        {
            PeerResult result = PeerRunner.Run(PeerSupport.Python, PeerSupport.LoaderScript, pipeline, dir.Path, workers: 1, batchSize: 2, epochs: 1, eval);
            Assert.Equal(pipeline, result.Pipeline);
            Assert.Equal(Sizes.Length, result.TimedImages);
            Assert.Equal(1, result.Workers);
            Assert.True(result.ImagesPerSecond > 0);
        }
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 3)]
    [InlineData(2, 6)]
    public void Run_WarmupEpochs_AreWholeUntimedEpochs(int warmupEpochs, long batches)
    {
        if (PeerSupport.WhyNotAvailable() is { } reason)
        {
            Assert.Skip(reason);
        }

        using var dir = new TempDirectory();
        PeerSupport.WriteImages(dir.Path, Sizes); // 5 images in batches of 2: 3 batches per epoch
        PeerResult result = PeerRunner.Run(PeerSupport.Python, PeerSupport.LoaderScript, PeerPipelines.OpenCv, dir.Path, workers: 1, batchSize: 2,
                                           epochs: 1, eval: true, warmupEpochs);
        Assert.Equal(batches, result.WarmupBatches);
        Assert.Equal(Sizes.Length, result.TimedImages);
    }

    [Fact]
    public void Run_AFolderWithoutImages_FailsWithOneLineNamingThePeer()
    {
        if (PeerSupport.WhyNotAvailable() is { } reason)
        {
            Assert.Skip(reason);
        }

        using var dir = new TempDirectory();
        var e = Assert.Throws<InvalidOperationException>(() =>
            PeerRunner.Run(PeerSupport.Python, PeerSupport.LoaderScript, PeerPipelines.OpenCv, dir.Path, 1, 2, 1, eval: false));
        Assert.StartsWith("peer opencv (torchvision_loader.py) exited with 1: no images found under", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void CheckPeers_OutputsMatchPil_AndOpenCvUsesReducedDecodeOnLargeImages()
    {
        if (PeerSupport.WhyNotAvailable() is { } reason)
        {
            Assert.Skip(reason);
        }

        using var dir = new TempDirectory();
        PeerSupport.WriteImages(dir.Combine("images"), Sizes);
        (int code, string output) = PeerSupport.RunPython(Path.Combine(PeerSupport.ScriptsDirectory, "check_peers.py"),
            "--data", dir.Combine("images"), "--count", "5", "--out", dir.Combine("check"));
        Assert.True(code == 0, output);

        using JsonDocument report = JsonDocument.Parse(output.Split('\n').Last(l => l.StartsWith('{')));
        Assert.Equal(0, report.RootElement.GetProperty("failed").GetArrayLength());
        foreach (string mode in new[] { "train", "eval" })
        {
            JsonElement results = report.RootElement.GetProperty(mode);
            foreach (string peer in PeerPipelines.All)
            {
                JsonElement r = results.GetProperty(peer);
                Assert.True(r.GetProperty("shape_ok").GetBoolean(), $"{mode}/{peer} shape");
                Assert.True(r.GetProperty("range_ok").GetBoolean(), $"{mode}/{peer} range");
                Assert.True(r.GetProperty("mean_abs_levels").GetDouble() < 4, $"{mode}/{peer}: {r}");
            }

            // torchvision.io decodes with the same libjpeg-turbo and resizes with the same antialiased filter: at most
            // a rounding level apart from PIL.
            Assert.True(results.GetProperty(PeerPipelines.TorchvisionIo).GetProperty("max_abs_levels").GetDouble() <= 2);
        }

        // The 1200x1100 image's short side is 1100: eval decodes it at 1/4 (275 >= 256).
        Assert.True(report.RootElement.GetProperty("eval").GetProperty(PeerPipelines.OpenCv).GetProperty("reduced_decodes").GetProperty("1/4").GetInt32() >= 1);
        Assert.True(File.Exists(dir.Combine("check", "check-train.png")));
        Assert.True(File.Exists(dir.Combine("check", "check-eval.png")));
    }
}
