using Loader.Trainer.Distributed;
using TorchSharp;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Distributed;

public sealed class LaunchEnvironmentTests
{
    private static LaunchEnvironment Detect(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value);
        return LaunchEnvironment.Detect(name => map.GetValueOrDefault(name));
    }

    [Fact]
    public void NothingSet_IsOneProcess() => Assert.Equal(LaunchEnvironment.Single, Detect());

    [Theory]
    [InlineData("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "Open MPI (mpirun)")]
    [InlineData("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPICH (mpiexec)")]
    public void MpiLaunchers_GiveRankWorldAndLocalRank(string rank, string size, string local, string launcher)
    {
        LaunchEnvironment launch = Detect((rank, "5"), (size, "8"), (local, "1"));
        Assert.Equal(new LaunchEnvironment(launcher, 5, 8, 1, ViaMpi: true), launch);
        Assert.True(launch.IsDistributed);
    }

    // The variables below are those srun 22.05 gave its tasks on this machine (srun -n 2 [--mpi=pmi2] env), cut down to
    // the ones that matter, for rank 5 of 8 on the second node of two.
    private static readonly (string, string)[] SrunTask =
        [("SLURM_STEP_ID", "0"), ("SLURM_STEPID", "0"), ("SLURM_PROCID", "5"), ("SLURM_NTASKS", "8"), ("SLURM_LOCALID", "1")];

    [Fact]
    public void SrunTask_GivesSlurmsRankWorldAndLocalRank() =>
        Assert.Equal(new LaunchEnvironment("Slurm (srun)", 5, 8, 1, ViaMpi: true), Detect(SrunTask));

    [Fact]
    public void SrunTask_WithPmi2Variables_IsSlurmsWithSlurmsLocalRank()
    {
        // srun --mpi=pmi2 adds PMI_RANK/PMI_SIZE but no MPI_LOCALRANKID: read as MPICH's, the local rank would be 5.
        LaunchEnvironment launch = Detect([.. SrunTask, ("PMI_RANK", "5"), ("PMI_SIZE", "8"), ("PMI_FD", "11"), ("PMI_JOBID", "3.0")]);
        Assert.Equal(new LaunchEnvironment("Slurm (srun)", 5, 8, 1, ViaMpi: true), launch);
    }

    [Fact]
    public void SlurmBatchScript_IsOneProcess()
    {
        // sbatch -n 2: the script has the allocation's SLURM_NTASKS and SLURM_PROCID=0 but no step id; it is one process.
        LaunchEnvironment launch = Detect(("SLURM_JOB_ID", "6"), ("SLURM_PROCID", "0"), ("SLURM_NTASKS", "2"), ("SLURM_LOCALID", "0"));
        Assert.Equal((1, 0, false), (launch.WorldSize, launch.Rank, launch.IsDistributed));
        // ... and says that the allocation's other task goes unused.
        Assert.Equal("Slurm allocated 2 tasks, but no srun, mpirun or mpiexec started this process: training as one; start it with 'srun' to use all 2",
                     launch.Note);
    }

    [Fact]
    public void SlurmBatchScriptOfOneTask_IsOneProcessWithNothingToSay()
    {
        Assert.Equal(LaunchEnvironment.Single, Detect(("SLURM_JOB_ID", "6"), ("SLURM_PROCID", "0"), ("SLURM_NTASKS", "1"), ("SLURM_LOCALID", "0")));
        Assert.Null(LaunchEnvironment.Single.Note);
    }

    [Fact]
    public void MpiexecRanksInsideAnSrunStep_AreHydras()
    {
        // Hydra in a batch script starts its proxy with srun: both ranks of `sbatch -n 2 --wrap "mpiexec.mpich -np 2 ..."`
        // had SLURM_STEP_ID=0, SLURM_PROCID=0, SLURM_NTASKS=2 here, and only the PMI variables said which rank each was.
        foreach (int rank in (int[])[0, 1])
        {
            LaunchEnvironment launch = Detect([("SLURM_STEP_ID", "0"), ("SLURM_PROCID", "0"), ("SLURM_NTASKS", "2"), ("SLURM_LOCALID", "0"),
                                               ("PMI_RANK", $"{rank}"), ("PMI_SIZE", "2"), ("MPI_LOCALRANKID", $"{rank}")]);
            Assert.Equal(new LaunchEnvironment("MPICH (mpiexec)", rank, 2, rank, ViaMpi: true), launch);
        }
    }

    [Fact]
    public void MpirunRanksInsideAnSrunStep_AreOpenMpis()
    {
        LaunchEnvironment launch = Detect([("SLURM_STEP_ID", "0"), ("SLURM_PROCID", "1"), ("SLURM_NTASKS", "2"), ("SLURM_LOCALID", "0"),
                                           ("OMPI_COMM_WORLD_RANK", "5"), ("OMPI_COMM_WORLD_SIZE", "8"), ("OMPI_COMM_WORLD_LOCAL_RANK", "1")]);
        Assert.Equal(new LaunchEnvironment("Open MPI (mpirun)", 5, 8, 1, ViaMpi: true), launch);
    }

    [Fact]
    public void Torchrun_SingleProcess_HonoursLocalRank()
    {
        LaunchEnvironment launch = Detect(("RANK", "0"), ("WORLD_SIZE", "1"), ("LOCAL_RANK", "3"));
        Assert.Equal(3, launch.LocalRank);
        Assert.False(launch.IsDistributed);
        Device picked = Communicator.PickDevice(new Device(DeviceType.CUDA, -1), launch, cudaDeviceCount: 2);
        Assert.Equal((DeviceType.CUDA, 1), (picked.type, picked.index));
    }

    [Fact]
    public void Torchrun_SeveralProcessesWithoutMpi_SaysToUseMpirun()
    {
        var e = Assert.Throws<DistributedException>(() => Detect(("RANK", "1"), ("WORLD_SIZE", "4"), ("LOCAL_RANK", "1")));
        Assert.Contains("mpirun -np 4", e.Message);
    }

    [Fact]
    public void MpirunAndTorchrunVariablesThatDisagree_AreAnError()
    {
        var e = Assert.Throws<DistributedException>(() =>
            Detect(("OMPI_COMM_WORLD_RANK", "1"), ("OMPI_COMM_WORLD_SIZE", "2"), ("RANK", "0"), ("WORLD_SIZE", "2")));
        Assert.Contains("RANK/WORLD_SIZE say 0 of 2", e.Message);
    }

    [Theory]
    [InlineData("2", "2")]
    [InlineData("-1", "2")]
    [InlineData("x", "2")]
    public void BadRankVariables_AreNamedInTheError(string rank, string size)
    {
        var e = Assert.Throws<DistributedException>(() => Detect(("PMI_RANK", rank), ("PMI_SIZE", size)));
        Assert.Contains("PMI_RANK", e.Message);
    }

    [Fact]
    public void CudaDevice_IsPickedByLocalRankModuloVisibleGpus()
    {
        var launch = new LaunchEnvironment("test", 5, 8, 5, ViaMpi: true);
        Assert.Equal(1, Communicator.PickDevice(new Device(DeviceType.CUDA, -1), launch, cudaDeviceCount: 4).index);
        Assert.Equal(DeviceType.CPU, Communicator.PickDevice(CPU, launch, cudaDeviceCount: 4).type);
    }

    [Fact]
    public void SingleProcess_GetsAWorldOfOneWithoutAnyMpiLibrary()
    {
        using Communicator world = Communicator.Create(LaunchEnvironment.Single, CPU);
        Assert.Equal((0, 1), (world.Rank, world.WorldSize));
        Span<long> all = stackalloc long[2];
        world.AllGather([7, 9], all);
        Assert.Equal([7, 9], all.ToArray());
        RunAgreement.Check(world, [AgreedSetting.Of("--seed", 3)]);
        Assert.True(world.AnyRank(true));
    }
}
