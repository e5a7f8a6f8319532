using Loader.Trainer.Distributed.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace Loader.Trainer.Distributed;

/// <summary>
/// Collectives over MPI's world communicator: in place on CPU tensors' memory (<c>MPI_IN_PLACE</c>), no copies, no
/// managed allocation per call. Counts above MPI's <c>int</c> range go in several calls.
/// </summary>
internal sealed unsafe class MpiCommunicator : Communicator
{
    // MPI counts are C ints; a chunk of 2^30 elements keeps every byte count below 2^33 and every count an int.
    private const long MaxChunkElements = 1L << 30;

    private readonly MpiLibrary _mpi;
    private bool _disposed;

    private MpiCommunicator(MpiLibrary mpi, int rank, int size, int localRank, int threadLevel) : base(localRank)
    {
        _mpi = mpi;
        Rank = rank;
        WorldSize = size;
        ThreadLevel = threadLevel;
    }

    public override int Rank { get; }

    public override int WorldSize { get; }

    /// <summary>MPI's thread support level (3 = MPI_THREAD_MULTIPLE).</summary>
    public int ThreadLevel { get; }

    public override string Description => $"MPI ({(_mpi.IsOpenMpi ? "Open MPI" : "MPICH ABI")}, {_mpi.Path})";

    internal MpiLibrary Library => _mpi;

    /// <summary>Initializes MPI and checks that it sees the world the launcher announced.</summary>
    public static MpiCommunicator Start(LaunchEnvironment launch)
    {
        MpiLibrary mpi = MpiLibrary.Load();
        int level = mpi.Initialize();
        int rank = mpi.CommRank(mpi.CommWorld), size = mpi.CommSize(mpi.CommWorld);
        if (size != launch.WorldSize || rank != launch.Rank)
            throw new DistributedException(
                $"{launch.Launcher} announced rank {launch.Rank} of {launch.WorldSize}, but MPI ({mpi.Path}) sees rank {rank} of {size}: " +
                "was the trainer started by a launcher of another MPI, or outside srun/mpirun?");
        return new MpiCommunicator(mpi, rank, size, launch.LocalRank, level);
    }

    public override void AllReduceSum(Tensor tensor)
    {
        if (tensor.device_type != DeviceType.CPU)
            throw new ArgumentException($"MPI collectives take CPU tensors; this one is on {tensor.device_type} (CUDA tensors go through NCCL).");
        nint type = DataType(tensor.dtype);
        nint pointer = DenseMemory.Pointer(tensor, "MPI_Allreduce");
        long count = tensor.NumberOfElements, elementSize = tensor.ElementSize;
        for (long done = 0; done < count; done += MaxChunkElements)
        {
            int chunk = (int)Math.Min(MaxChunkElements, count - done);
            _mpi.Allreduce(_mpi.InPlace, pointer + (nint)(done * elementSize), chunk, type, _mpi.OpSum, _mpi.CommWorld);
        }
    }

    public override void Broadcast(Tensor tensor, int root)
    {
        if (tensor.device_type != DeviceType.CPU)
            throw new ArgumentException($"MPI collectives take CPU tensors; this one is on {tensor.device_type}.");
        CheckRoot(root);
        Broadcast(DenseMemory.Pointer(tensor, "MPI_Bcast"), DenseMemory.Bytes(tensor), root);
    }

    /// <summary>Broadcasts <paramref name="bytes"/> bytes at <paramref name="pointer"/> from <paramref name="root"/>.</summary>
    internal void Broadcast(nint pointer, long bytes, int root)
    {
        for (long done = 0; done < bytes; done += MaxChunkElements)
            _mpi.Bcast(pointer + (nint)done, (int)Math.Min(MaxChunkElements, bytes - done), _mpi.Byte, root, _mpi.CommWorld);
    }

    public override void AllReduce(Span<long> values, ReduceOperation operation)
    {
        fixed (long* pointer = values)
            _mpi.Allreduce(_mpi.InPlace, (nint)pointer, values.Length, _mpi.Int64, Op(operation), _mpi.CommWorld);
    }

    public override void AllReduce(Span<double> values, ReduceOperation operation)
    {
        fixed (double* pointer = values)
            _mpi.Allreduce(_mpi.InPlace, (nint)pointer, values.Length, _mpi.Double, Op(operation), _mpi.CommWorld);
    }

    public override void AllGather(ReadOnlySpan<long> mine, Span<long> all)
    {
        if (all.Length != mine.Length * WorldSize)
            throw new ArgumentException($"AllGather: {all.Length} slots for {WorldSize} ranks of {mine.Length} values.", nameof(all));
        fixed (long* send = mine)
        fixed (long* receive = all)
            _mpi.Allgather((nint)send, mine.Length, _mpi.Int64, (nint)receive, mine.Length, _mpi.Int64, _mpi.CommWorld);
    }

    public override void Barrier() => _mpi.Barrier(_mpi.CommWorld);

    public override void Abort(int code)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        _mpi.Abort(_mpi.CommWorld, code);
    }

    private nint DataType(ScalarType type) => type switch
    {
        ScalarType.Float32 => _mpi.Float,
        ScalarType.Float64 => _mpi.Double,
        ScalarType.Int64 => _mpi.Int64,
        ScalarType.Int32 => _mpi.Int32,
        _ => throw new NotSupportedException($"MPI_Allreduce over {type} tensors: MPI has no such type (float32, float64, int32 and int64 are supported)."),
    };

    private nint Op(ReduceOperation operation) => operation switch
    {
        ReduceOperation.Sum => _mpi.OpSum,
        ReduceOperation.Max => _mpi.OpMax,
        ReduceOperation.Min => _mpi.OpMin,
        _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, null),
    };

    private void CheckRoot(int root)
    {
        if (root < 0 || root >= WorldSize) throw new ArgumentOutOfRangeException(nameof(root), root, $"not a rank of {WorldSize}.");
    }

    protected override void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        // Finalize is collective: a rank that leaves early simply waits here for the others.
        if (!_mpi.IsFinalized) _mpi.Shutdown();
    }
}
