using TorchSharp;
using static TorchSharp.torch;

namespace Loader.Trainer.Distributed;

/// <summary>The reductions the host-side collectives offer.</summary>
public enum ReduceOperation
{
    Sum,
    Max,
    Min,
}

/// <summary>
/// The ranks of a data-parallel job and the collectives between them. Device collectives work in place on tensors
/// of the training device (CPU tensors through MPI, CUDA tensors through NCCL); host collectives exchange a few
/// numbers (start-up agreement, loss-scaler and stop decisions, evaluation counts, replica hashes) through MPI.
/// <see cref="Create"/> picks the implementation from the launch and the device; a single process gets a world of one
/// whose collectives leave everything as it is and which needs no MPI library.
/// </summary>
public abstract class Communicator : IDisposable
{
    private protected Communicator(int localRank) => LocalRank = localRank;

    public abstract int Rank { get; }

    public abstract int WorldSize { get; }

    /// <summary>The rank among the job's processes on this machine (picks the GPU).</summary>
    public int LocalRank { get; }

    public bool IsRoot => Rank == 0;

    /// <summary>What carries the collectives, for the start-up line (e.g. "MPI (Open MPI, libmpi.so.40)").</summary>
    public abstract string Description { get; }

    /// <summary>Every rank's <paramref name="tensor"/> becomes the element-wise sum over ranks. The tensor must be
    /// dense (contiguous, or a permutation of contiguous such as channels-last) and on the training device.</summary>
    public abstract void AllReduceSum(Tensor tensor);

    /// <summary>Every rank's <paramref name="tensor"/> becomes rank <paramref name="root"/>'s (any dtype, dense).</summary>
    public abstract void Broadcast(Tensor tensor, int root);

    /// <summary>Reduces <paramref name="values"/> element-wise over ranks, in place, on every rank.</summary>
    public abstract void AllReduce(Span<long> values, ReduceOperation operation);

    /// <inheritdoc cref="AllReduce(Span{long}, ReduceOperation)"/>
    public abstract void AllReduce(Span<double> values, ReduceOperation operation);

    /// <summary>Rank r's <paramref name="mine"/> lands in <paramref name="all"/> at r * mine.Length, on every rank.</summary>
    public abstract void AllGather(ReadOnlySpan<long> mine, Span<long> all);

    public abstract void Barrier();

    /// <summary>Ends every process of the job with <paramref name="code"/> (a rank that fails must not leave the others
    /// waiting in a collective). A world of one does nothing: the caller's own exit ends the job.</summary>
    public abstract void Abort(int code);

    /// <summary>True on every rank when it is true on any rank: a decision all ranks must take together.</summary>
    public bool AnyRank(bool local)
    {
        if (WorldSize == 1) return local;
        Span<long> flag = [local ? 1 : 0];
        AllReduce(flag, ReduceOperation.Max);
        return flag[0] != 0;
    }

    /// <summary>
    /// The communicator for this process: a world of one without a multi-process launch; MPI when launched by mpirun,
    /// mpiexec or srun on more than one rank, with NCCL for the device collectives when <paramref name="device"/> is CUDA.
    /// </summary>
    public static Communicator Create(LaunchEnvironment launch, Device device)
    {
        ArgumentNullException.ThrowIfNull(launch);
        ArgumentNullException.ThrowIfNull(device);
        if (!launch.IsDistributed) return new WorldOfOneCommunicator(launch.LocalRank);
        var mpi = MpiCommunicator.Start(launch);
        if (device.type != DeviceType.CUDA) return mpi;
        try
        {
            return NcclCommunicator.Start(mpi, device);
        }
        catch
        {
            mpi.Abort(1);
            throw;
        }
    }

    /// <summary>The device this rank trains on: <paramref name="device"/>, with the GPU picked by local rank for CUDA
    /// (local rank modulo the GPUs this process sees, so that CUDA_VISIBLE_DEVICES per rank works too).</summary>
    public static Device PickDevice(Device device, LaunchEnvironment launch, int cudaDeviceCount)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(launch);
        if (device.type != DeviceType.CUDA || cudaDeviceCount <= 0) return device;
        return new Device(DeviceType.CUDA, launch.LocalRank % cudaDeviceCount);
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing) { }
}
