using System.Runtime.CompilerServices;
using Loader.Trainer.Distributed;
using Loader.Trainer.Distributed.Interop;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Distributed;

/// <summary>What can be checked of the MPI and NCCL bindings without a second rank or a GPU.</summary>
public sealed class NativeBindingTests
{
    [Fact]
    public void NcclUniqueId_IsNcclsOneHundredTwentyEightBytes() => Assert.Equal(128, Unsafe.SizeOf<NcclUniqueId>());

    [Theory]
    [InlineData(ScalarType.Float32, 7)]
    [InlineData(ScalarType.Float16, 6)]
    [InlineData(ScalarType.BFloat16, 9)]
    [InlineData(ScalarType.Float64, 8)]
    [InlineData(ScalarType.Int64, 4)]
    public void NcclDataTypes_MatchNcclH(ScalarType type, int nccl) => Assert.Equal(nccl, (int)NcclCommunicator.DataType(type));

    [Fact]
    public void NcclReductions_MatchNcclH() => Assert.Equal((0, 4), ((int)NcclRedOp.Sum, (int)NcclRedOp.Avg));

    [Fact]
    public void NcclError_NamesTheCallTheCodeAndNcclsText()
    {
        string message = NcclLibrary.Describe(NcclResult.InvalidUsage, "ncclCommInitRank", "invalid usage", "Duplicate GPU detected : rank 1 and rank 0 both on CUDA device 0");
        Assert.Equal("ncclCommInitRank failed with ncclInvalidUsage: invalid usage (Duplicate GPU detected : rank 1 and rank 0 both on CUDA device 0).", message);
        Assert.Contains("ncclResult 42", NcclLibrary.Describe((NcclResult)42, "ncclAllReduce", null, null));
    }

    [Fact]
    public void MissingNccl_SaysWhereToGetIt()
    {
        string? saved = Environment.GetEnvironmentVariable(NcclLibrary.LibraryVariable);
        string missing = Path.Combine(Path.GetTempPath(), "no-such-dir", "libnccl.so.2");
        Environment.SetEnvironmentVariable(NcclLibrary.LibraryVariable, missing);
        try
        {
            var e = Assert.Throws<DistributedException>(NcclLibrary.Load);
            Assert.Contains(missing, e.Message);
            Assert.Contains("nvidia/nccl/lib", e.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(NcclLibrary.LibraryVariable, saved);
        }
    }

    [Fact]
    public void MissingMpi_NamesTheDebianPackages()
    {
        var e = Assert.Throws<DistributedException>(() => MpiLibrary.LoadFrom("/no/such/libmpi.so.40"));
        Assert.Contains("apt-get install openmpi-bin libopenmpi-dev", e.Message);
    }

    /// <summary>Open MPI's handles are the addresses of its exported globals; the binding finds them all.</summary>
    [Fact]
    public void OpenMpi_HandlesAreExportedGlobals()
    {
        Assert.SkipWhen(!File.Exists("/usr/lib/x86_64-linux-gnu/libmpi.so.40") && MpiRun.Launcher is null, MpiRun.SkipReason);
        MpiLibrary mpi = MpiLibrary.LoadFrom("libmpi.so.40");
        Assert.True(mpi.IsOpenMpi);
        Assert.Equal(1, mpi.InPlace);
        Assert.All([mpi.CommWorld, mpi.Float, mpi.Double, mpi.Int64, mpi.OpSum, mpi.OpMax, mpi.ErrorsReturn], h => Assert.True(h > 4096));
        Assert.Equal(6, new[] { mpi.Float, mpi.Double, mpi.Int64, mpi.Int32, mpi.Byte, mpi.CommWorld }.Distinct().Count());
    }

    /// <summary>MPICH's handles are mpi.h's int constants; its library is found by its own soname.</summary>
    [Fact]
    public void Mpich_HandlesAreMpiHConstants()
    {
        Assert.SkipWhen(MpiRun.Mpich is null, MpiRun.MpichSkipReason);
        MpiLibrary mpi = MpiLibrary.LoadFrom("libmpich.so.12");
        Assert.False(mpi.IsOpenMpi);
        Assert.Equal(-1, mpi.InPlace);
        Assert.Equal((0x44000000, 0x4c00040a, 0x58000003), (mpi.CommWorld, mpi.Float, mpi.OpSum));
    }

    /// <summary>A rank that MPICH's mpiexec (or srun --mpi=pmi2) started looks for MPICH's library first (with Open MPI
    /// installed too, Open MPI's would start a world of one); Open MPI's mpirun, srun --mpi=pmix and a lone process keep
    /// the default order.</summary>
    [Theory]
    [InlineData("PMI_RANK", "libmpich.so.12")]
    [InlineData("OMPI_COMM_WORLD_RANK", "libmpi.so.40")]
    [InlineData("SLURM_PROCID", "libmpi.so.40")]
    [InlineData("PMIX_RANK", "libmpi.so.40")]
    [InlineData(null, "libmpi.so.40")]
    public void LibrarySearch_FollowsTheLauncher(string? variable, string first)
    {
        Assert.Equal(first, MpiLibrary.CandidatesFor(name => name == variable ? "0" : null)[0]);
        Assert.Equal(MpiLibrary.Candidates.Order(), MpiLibrary.CandidatesFor(name => name == variable ? "0" : null).Order());
    }

    [Fact]
    public void LibrarySearch_BothLaunchersVariables_OpenMpiWins()
    {
        // Open MPI's mpirun under an outer Hydra job (PMI_RANK inherited): the innermost launcher is Open MPI.
        Assert.Equal("libmpi.so.40", MpiLibrary.CandidatesFor(name => name is "PMI_RANK" or "OMPI_COMM_WORLD_RANK" ? "1" : null)[0]);
    }
}
