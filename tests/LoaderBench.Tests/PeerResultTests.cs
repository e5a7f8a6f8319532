namespace Loader.Tools.Bench.Tests;

/// <summary>Reading a peer's JSON line: the last one wins, and anything else is one line naming the peer.</summary>
public class PeerResultTests
{
    [Fact]
    public void Parse_TakesTheLastJsonLine_AmongOtherOutput()
    {
        string output = "warning: something\n{\"images_per_s\": 1.0, \"timed_images\": 1, \"workers\": 1, \"pipeline\": \"opencv\"}\n" +
                        "  {\"mode\": \"train\", \"pipeline\": \"torchvision-io\", \"images_per_s\": 412.5, \"timed_images\": 1000, \"workers\": 2}  \n\n";
        PeerResult result = PeerResult.Parse(output, "peer x");
        Assert.Equal(new PeerResult(PeerPipelines.TorchvisionIo, 412.5, 1000, 2), result);
    }

    [Fact]
    public void Parse_OlderScriptWithoutPipeline_IsTheTorchvisionPilPeer()
    {
        PeerResult result = PeerResult.Parse("{\"images_per_s\": 399, \"timed_images\": 1000, \"workers\": 2}", "peer x");
        Assert.Equal(PeerPipelines.TorchvisionPil, result.Pipeline);
        Assert.Equal(399, result.ImagesPerSecond);
    }

    [Theory]
    [InlineData("", "printed no JSON line")]
    [InlineData("Traceback (most recent call last):\nImportError: cv2", "printed no JSON line")]
    [InlineData("{\"timed_images\": 1000, \"workers\": 2}", "not a peer result")]
    [InlineData("{\"images_per_s\": \"fast\", \"timed_images\": 1000, \"workers\": 2}", "not a peer result")]
    [InlineData("{\"images_per_s\": 0, \"timed_images\": 1000, \"workers\": 2}", "not a positive number")]
    [InlineData("{\"images_per_s\": 12", "not a peer result")]
    public void Parse_BadOutput_IsOneLineNamingThePeer(string output, string expected)
    {
        var e = Assert.Throws<FormatException>(() => PeerResult.Parse(output, "peer opencv (torchvision_loader.py)"));
        Assert.StartsWith("peer opencv (torchvision_loader.py): ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
