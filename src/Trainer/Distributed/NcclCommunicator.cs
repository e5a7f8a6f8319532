using Loader.Trainer.Distributed.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace Loader.Trainer.Distributed;

/// <summary>
/// Device collectives over NCCL on CUDA tensors, host collectives over the MPI communicator that started the job.
/// Rank 0 makes the NCCL id, MPI broadcasts it, every rank joins with <c>ncclCommInitRank</c> (Horovod's and
/// PyTorch's start-up). NCCL kernels go on the legacy default stream (handle 0), the one libtorch's kernels use when
/// nobody picked another, so they are ordered after backward and before the optimizer step without extra syncs.
/// Debian's Open MPI is not CUDA-aware: device pointers never go to MPI.
/// </summary>
internal sealed unsafe class NcclCommunicator : Communicator
{
    private const nint DefaultStream = 0;

    private readonly Communicator _host;
    private readonly NcclLibrary _nccl;
    private nint _comm;

    private NcclCommunicator(Communicator host, NcclLibrary nccl, nint comm, int deviceIndex) : base(host.LocalRank)
    {
        _host = host;
        _nccl = nccl;
        _comm = comm;
        DeviceIndex = deviceIndex;
    }

    public override int Rank => _host.Rank;

    public override int WorldSize => _host.WorldSize;

    public int DeviceIndex { get; }

    public override string Description => $"NCCL {_nccl.Version} ({_nccl.Path}) on cuda:{DeviceIndex}, host collectives over {_host.Description}";

    /// <summary>Joins (or, with a world of one, makes) the NCCL communicator of <paramref name="host"/>'s ranks; the
    /// current CUDA device must be this rank's GPU (libtorch makes it current with the first tensor on it).</summary>
    public static NcclCommunicator Start(Communicator host, Device device)
    {
        NcclLibrary nccl = NcclLibrary.Load();
        using Tensor touch = zeros(1, device: device);   // makes this rank's device current for ncclCommInitRank
        NcclUniqueId id = host.IsRoot ? nccl.GetUniqueId() : default;
        if (host.WorldSize > 1)
        {
            if (host is not MpiCommunicator mpi) throw new ArgumentException("NCCL's start-up needs an MPI host communicator.", nameof(host));
            mpi.Broadcast((nint)(&id), NcclUniqueId.Size, root: 0);
        }
        nint comm = nccl.CommInitRank(host.WorldSize, id, host.Rank);
        return new NcclCommunicator(host, nccl, comm, device.index < 0 ? 0 : device.index);
    }

    public override void AllReduceSum(Tensor tensor)
    {
        if (tensor.device_type != DeviceType.CUDA) throw new ArgumentException($"NCCL collectives take CUDA tensors; this one is on {tensor.device_type}.");
        nint pointer = DenseMemory.Pointer(tensor, "ncclAllReduce");
        _nccl.AllReduce(pointer, pointer, tensor.NumberOfElements, DataType(tensor.dtype), NcclRedOp.Sum, _comm, DefaultStream);
        _nccl.CheckAsyncError(_comm);
    }

    public override void Broadcast(Tensor tensor, int root)
    {
        if (tensor.device_type != DeviceType.CUDA) throw new ArgumentException($"NCCL collectives take CUDA tensors; this one is on {tensor.device_type}.");
        nint pointer = DenseMemory.Pointer(tensor, "ncclBroadcast");
        _nccl.Broadcast(pointer, pointer, DenseMemory.Bytes(tensor), NcclDataType.Uint8, root, _comm, DefaultStream);
        _nccl.CheckAsyncError(_comm);
    }

    public override void AllReduce(Span<long> values, ReduceOperation operation) => _host.AllReduce(values, operation);

    public override void AllReduce(Span<double> values, ReduceOperation operation) => _host.AllReduce(values, operation);

    public override void AllGather(ReadOnlySpan<long> mine, Span<long> all) => _host.AllGather(mine, all);

    public override void Barrier() => _host.Barrier();

    public override void Abort(int code)
    {
        if (_comm != 0)
        {
            try { _nccl.CommAbort(_comm); } catch (DistributedException) { }  // the job ends either way
            _comm = 0;
        }
        _host.Abort(code);
    }

    /// <summary>NCCL's type for a tensor dtype (NCCL sums half and bfloat16 natively, unlike MPI).</summary>
    public static NcclDataType DataType(ScalarType type) => type switch
    {
        ScalarType.Float32 => NcclDataType.Float32,
        ScalarType.Float16 => NcclDataType.Float16,
        ScalarType.BFloat16 => NcclDataType.BFloat16,
        ScalarType.Float64 => NcclDataType.Float64,
        ScalarType.Int64 => NcclDataType.Int64,
        ScalarType.Int32 => NcclDataType.Int32,
        ScalarType.Int8 => NcclDataType.Int8,
        ScalarType.Byte => NcclDataType.Uint8,
        _ => throw new NotSupportedException($"ncclAllReduce over {type} tensors is not supported."),
    };

    protected override void Dispose(bool disposing)
    {
        if (_comm != 0)
        {
            _nccl.CommDestroy(_comm);
            _comm = 0;
        }
        _host.Dispose();
    }
}
