namespace Loader.Trainer.Tests.Distributed;

/// <summary>`trainer train` itself under mpirun: what rank 0 writes, and the start-up agreement check.</summary>
public sealed class TrainCommandDistributedTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trainer-mpi-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string[] Train(string output, string seed) =>
    [
        "train", "--loader", "synthetic", "--arch", "resnet-tiny", "--classes", "4", "--image-size", "16", "--batch", "8",
        "--synthetic-steps", "2", "--epochs", "2", "--torch-threads", "1", "--seed", seed, "--output", Path.Combine(_directory, output),
    ];

    [Fact]
    public void TwoRanks_RankZeroWritesOneCheckpointAndOneMetricsFile()
    {
        MpiRun.Result result = MpiRun.Run(2, MpiRun.Trainer, Train("run", "1"));
        Assert.True(result.ExitCode == 0 && !result.TimedOut, result.Output);
        string run = Path.Combine(_directory, "run");
        Assert.Equal(["checkpoint", "metrics.jsonl", "plots", "tensorboard"], Directory.GetFileSystemEntries(run).Select(Path.GetFileName).Order());
        Assert.Equal(2, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);   // one line per epoch, from rank 0 only
        Assert.Contains("rank 0 of 2", result.Output);
        Assert.DoesNotContain("rank 1 of 2", result.Output);   // ranks > 0 print nothing
        Assert.Single(result.Output.Split('\n'), l => l.StartsWith("final:", StringComparison.Ordinal));
    }

    [Fact]
    public void RanksWithDifferentSeeds_StopAtStartUpWithTheSetting()
    {
        MpiRun.Result result = MpiRun.RunApps(TimeSpan.FromSeconds(90),
            [(1, MpiRun.Trainer, Train("a", "1")), (1, MpiRun.Trainer, Train("b", "2"))]);
        Assert.False(result.TimedOut, "a disagreement hung the job");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("disagree on settings that must match: --seed: rank 0 has 1 rank 1 has 2", result.Output);
        Assert.False(File.Exists(Path.Combine(_directory, "a", "metrics.jsonl")));
    }
}
