namespace Loader.Trainer.Tests.Distributed;

/// <summary>
/// The trainer launched by Slurm's srun directly, no mpirun or mpiexec: Slurm's PMIx plugin with Open MPI's library,
/// and its PMI-2 plugin with MPICH's, each chosen by nothing but the variables srun gives the tasks. These run only
/// where srun can start a 2-task step (CI has no Slurm: they skip, saying why).
/// </summary>
public sealed class SrunTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trainer-srun-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("pmix", "MPI (Open MPI, libmpi.so.40)")]
    [InlineData("pmi2", "MPI (MPICH ABI, libmpich.so.12)")]
    public void Train_TwoTasksUnderSrun_AgreeOnTheWorldAndWriteOneMetricsFile(string mpiPlugin, string collectives)
    {
        string run = Path.Combine(_directory, mpiPlugin);
        MpiRun.Result result = MpiRun.RunSrun(mpiPlugin, 2, MpiRun.Trainer,
            "train", "--loader", "synthetic", "--arch", "resnet-tiny", "--classes", "4", "--image-size", "16", "--batch", "8",
            "--synthetic-steps", "2", "--epochs", "1", "--torch-threads", "1", "--output", run);
        Assert.True(result.ExitCode == 0 && !result.TimedOut, result.Output);
        Assert.Contains("rank 0 of 2 (local rank 0, Slurm (srun))", result.Output);
        Assert.Contains(collectives, result.Output);
        Assert.Single(File.ReadAllLines(Path.Combine(run, "metrics.jsonl")));
    }
}
