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
    [InlineData("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "Slurm (srun)")]
    public void MpiLaunchers_GiveRankWorldAndLocalRank(string rank, string size, string local, string launcher)
    {
        LaunchEnvironment launch = Detect((rank, "5"), (size, "8"), (local, "1"));
        Assert.Equal(new LaunchEnvironment(launcher, 5, 8, 1, ViaMpi: true), launch);
        Assert.True(launch.IsDistributed);
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
