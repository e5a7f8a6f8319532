namespace Loader.Trainer.Tests.Distributed;

/// <summary>
/// The MPICH ABI (int handles, <c>MPI_IN_PLACE</c> = -1) on two real ranks started by MPICH's own launcher, with Open
/// MPI installed beside it as on the CI machine: the same checks as <see cref="CollectiveTests"/> and one training run,
/// with nothing but the launcher telling the ranks which MPI library to load.
/// </summary>
public sealed class MpichTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trainer-mpich-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("allreduce", "ok: allreduce over 2 ranks")]
    [InlineData("step", "ok: one step on 2 ranks equals one step on one process")]
    [InlineData("broadcast", "ok: broadcast made 2 ranks identical")]
    public void Collectives_UnderMpiexec_AsUnderOpenMpi(string mode, string expected)
    {
        MpiRun.Result result = MpiRun.RunMpich(2, MpiRun.TestHost, mode);
        Assert.False(result.TimedOut, $"{mode} hung:\n{result.Output}");
        Assert.True(result.ExitCode == 0, $"{mode} failed ({result.ExitCode}):\n{result.Output}");
        Assert.Contains(expected, result.Output);
    }

    [Fact]
    public void NonFiniteLossOnOneRank_StopsBothRanks_UnderMpiexec()
    {
        MpiRun.Result result = MpiRun.RunMpich(2, MpiRun.TestHost, "diverge");
        Assert.False(result.TimedOut, $"diverge hung:\n{result.Output}");
        Assert.Equal(2, result.Output.Split('\n').Count(l => l.Contains("stopped: step 3 (epoch 1): the loss is not finite", StringComparison.Ordinal)));
    }

    [Fact]
    public void KilledRank_EndsTheJob_UnderMpiexec()
    {
        MpiRun.Result result = MpiRun.RunMpich(2, MpiRun.TestHost, "kill");
        Assert.False(result.TimedOut, "the job hung after a rank was killed");
        Assert.NotEqual(0, result.ExitCode);
        Assert.DoesNotContain("survived", result.Output);
    }

    [Fact]
    public void Train_TwoRanks_UnderMpiexec_UsesMpichAndWritesOneMetricsFile()
    {
        string run = Path.Combine(_directory, "run");
        MpiRun.Result result = MpiRun.RunMpich(2, MpiRun.Trainer,
            "train", "--loader", "synthetic", "--arch", "resnet-tiny", "--classes", "4", "--image-size", "16", "--batch", "8",
            "--synthetic-steps", "2", "--epochs", "1", "--torch-threads", "1", "--output", run);
        Assert.True(result.ExitCode == 0 && !result.TimedOut, result.Output);
        Assert.Contains("MPI (MPICH ABI, libmpich.so.12)", result.Output);
        Assert.Contains("rank 0 of 2", result.Output);
        Assert.Single(File.ReadAllLines(Path.Combine(run, "metrics.jsonl")));
    }
}
