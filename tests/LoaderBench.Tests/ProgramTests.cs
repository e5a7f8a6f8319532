using System.Text.Json;
using Loader.Records.Tests;

namespace Loader.Tools.Bench.Tests;

/// <summary>loader-bench as users call it: exit codes, help, and <c>compare</c> end to end.</summary>
[Collection(ConsoleCollection.Name)]
public class ProgramTests
{
    [Theory]
    [InlineData("run")]                                        // --data is required
    [InlineData("run", "--data", ".", "--batch", "abc")]       // not a number
    [InlineData("run", "--data", "/nonexistent/records")]
    [InlineData("run", "--data", ".", "--threads", "0")]
    [InlineData("run", "--data", ".", "--backend", "tpu")]
    [InlineData("run", "--data", ".", "--resume-at", "1-2")]
    [InlineData("run", "--data", ".", "--gpu-splice", "maybe")]
    [InlineData("run", "--data", ".", "--gpu-splice", "off")]         // off means something only with --backend gpu
    [InlineData("compare", "--data", ".", "--images", ".", "--threads", "a")]
    [InlineData("compare", "--data", ".", "--images", ".", "--threads", "0")]
    [InlineData("compare", "--data", ".", "--images", ".", "--modes", "test")]
    [InlineData("compare", "--data", ".", "--images", ".", "--peers", "dali")]
    [InlineData("compare", "--data", ".", "--images", ".", "--repeat", "0")]
    [InlineData("compare", "--data", "/nonexistent/records", "--images", ".")]
    [InlineData("compare", "--data", ".", "--images", ".", "--peer-script", "/nonexistent/peer.py")]
    [InlineData("nosuchcommand")]
    public void Main_UsageErrors_Exit2(params string[] args) => Assert.Equal(ExitCodes.Usage, Program.Main(args));

    [Theory]
    [InlineData("--help")]
    [InlineData("run", "--help")]
    [InlineData("compare", "--help")]
    [InlineData("preview", "--help")]
    public void Main_Help_ListsTheExitCodes_AndTheDefaults(params string[] args)
    {
        TextWriter original = Console.Out;
        using var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            Assert.Equal(ExitCodes.Success, Program.Main(args));
        }
        finally
        {
            Console.SetOut(original);
        }

        string help = captured.ToString();
        Assert.Contains("Exit codes: 0 done, 1 the run failed, 2 usage error", help);
        if (args[0] == "compare")
        {
            Assert.Contains("[default: torchvision-pil,torchvision-io,opencv,opencv-linear]", help);
            Assert.Contains("[default: 256]", help);
        }
    }

    [Fact]
    public void Compare_EndToEnd_EveryPeerInTheJson_RatioAgainstTheFastest()
    {
        if (PeerSupport.WhyNotAvailable() is { } reason)
        {
            Assert.Skip(reason);
        }

        using var dir = new TempDirectory();
        string records = dir.Combine("records");
        string images = dir.Combine("images");
        Directory.CreateDirectory(records);
        Directory.CreateDirectory(images);
        int i = 0;
        foreach (var (jpeg, label) in TestRecords.Write(records, shards: 1, perShard: 6, classes: 3))
        {
            File.WriteAllBytes(Path.Combine(images, $"n{label:D8}_image{i++}.JPEG"), jpeg);
        }

        string output = dir.Combine("out");
        Assert.Equal(ExitCodes.Success, Program.Main(["compare", "--data", records, "--images", images, "--threads", "1", "--batch", "2",
                                                      "--epochs", "1", "--modes", "train", "--out", output,
                                                      "--peer-script", PeerSupport.LoaderScript]));

        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "compare.json")));
        JsonElement row = Assert.Single(json.RootElement.EnumerateArray());
        Assert.Equal("train", row.GetProperty("mode").GetString());
        JsonElement[] peers = [.. row.GetProperty("peers").EnumerateArray()];
        Assert.Equal(PeerPipelines.All, peers.Select(p => p.GetProperty("peer").GetString()));
        JsonElement fastest = peers.MaxBy(p => p.GetProperty("images_per_sec").GetDouble());
        Assert.Equal(fastest.GetProperty("peer").GetString(), row.GetProperty("fastest_peer").GetString());
        double ours = row.GetProperty("ours_images_per_sec").GetDouble();
        Assert.Equal(Math.Round(ours / fastest.GetProperty("images_per_sec").GetDouble(), 2), row.GetProperty("ratio_vs_fastest_peer").GetDouble());
        Assert.True(new FileInfo(Path.Combine(output, "compare.png")).Length > 0);
    }
}

/// <summary>Tests that write to or capture the console run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "console";
}
