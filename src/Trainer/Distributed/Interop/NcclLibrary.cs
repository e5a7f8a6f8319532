using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Loader.Trainer.Distributed.Interop;

/// <summary><c>ncclUniqueId</c>: 128 opaque bytes that rank 0 makes and every rank passes, by value, to
/// <c>ncclCommInitRank</c>.</summary>
[InlineArray(Size)]
internal struct NcclUniqueId
{
    public const int Size = 128;   // NCCL_UNIQUE_ID_BYTES
    private byte _first;
}

/// <summary><c>ncclResult_t</c> (nccl.h, 2.x).</summary>
internal enum NcclResult
{
    Success = 0,
    UnhandledCudaError = 1,
    SystemError = 2,
    InternalError = 3,
    InvalidArgument = 4,
    InvalidUsage = 5,
    RemoteError = 6,
    InProgress = 7,
}

/// <summary><c>ncclDataType_t</c> (nccl.h, 2.x).</summary>
internal enum NcclDataType
{
    Int8 = 0,
    Uint8 = 1,
    Int32 = 2,
    Uint32 = 3,
    Int64 = 4,
    Uint64 = 5,
    Float16 = 6,
    Float32 = 7,
    Float64 = 8,
    BFloat16 = 9,
}

/// <summary><c>ncclRedOp_t</c>'s built-in operations (nccl.h, 2.10 and later for Avg).</summary>
internal enum NcclRedOp
{
    Sum = 0,
    Prod = 1,
    Max = 2,
    Min = 3,
    Avg = 4,
}

/// <summary>
/// NCCL (<c>libnccl.so.2</c>), bound at run time like <see cref="MpiLibrary"/>: the communicator's life cycle,
/// all-reduce and broadcast on device pointers, and the asynchronous error check. Every result is checked
/// (<see cref="Check"/>), with NCCL's own last-error text.
/// </summary>
internal sealed unsafe class NcclLibrary
{
    public const string LibraryVariable = "TRAINER_NCCL_LIBRARY";

    public const string InstallHint =
        "install NCCL (the nvidia-nccl-cu12/cu13 pip wheel puts it under site-packages/nvidia/nccl/lib; NVIDIA's " +
        "libnccl2 package under /usr/lib), put its folder on LD_LIBRARY_PATH or point " + LibraryVariable + " at libnccl.so.2";

    private static readonly Lock s_lock = new();
    private static NcclLibrary? s_loaded;

    private readonly delegate* unmanaged<int*, NcclResult> _getVersion;
    private readonly delegate* unmanaged<NcclUniqueId*, NcclResult> _getUniqueId;
    private readonly delegate* unmanaged<nint*, int, NcclUniqueId, int, NcclResult> _commInitRank;
    private readonly delegate* unmanaged<nint, NcclResult> _commDestroy;
    private readonly delegate* unmanaged<nint, NcclResult> _commAbort;
    private readonly delegate* unmanaged<nint, NcclResult*, NcclResult> _commGetAsyncError;
    private readonly delegate* unmanaged<nint, nint, nuint, NcclDataType, NcclRedOp, nint, nint, NcclResult> _allReduce;
    private readonly delegate* unmanaged<nint, nint, nuint, NcclDataType, int, nint, nint, NcclResult> _broadcast;
    private readonly delegate* unmanaged<NcclResult, nint> _getErrorString;
    private readonly delegate* unmanaged<nint, nint> _getLastError;

    private NcclLibrary(nint library, string path)
    {
        Path = path;
        _getVersion = (delegate* unmanaged<int*, NcclResult>)Function(library, "ncclGetVersion");
        _getUniqueId = (delegate* unmanaged<NcclUniqueId*, NcclResult>)Function(library, "ncclGetUniqueId");
        _commInitRank = (delegate* unmanaged<nint*, int, NcclUniqueId, int, NcclResult>)Function(library, "ncclCommInitRank");
        _commDestroy = (delegate* unmanaged<nint, NcclResult>)Function(library, "ncclCommDestroy");
        _commAbort = (delegate* unmanaged<nint, NcclResult>)Function(library, "ncclCommAbort");
        _commGetAsyncError = (delegate* unmanaged<nint, NcclResult*, NcclResult>)Function(library, "ncclCommGetAsyncError");
        _allReduce = (delegate* unmanaged<nint, nint, nuint, NcclDataType, NcclRedOp, nint, nint, NcclResult>)Function(library, "ncclAllReduce");
        _broadcast = (delegate* unmanaged<nint, nint, nuint, NcclDataType, int, nint, nint, NcclResult>)Function(library, "ncclBroadcast");
        _getErrorString = (delegate* unmanaged<NcclResult, nint>)Function(library, "ncclGetErrorString");
        _getLastError = (delegate* unmanaged<nint, nint>)Function(library, "ncclGetLastError");
    }

    public string Path { get; }

    /// <summary>The places NCCL is looked for, in order: <see cref="LibraryVariable"/>, the loader's search path, then
    /// the pip wheel's folder in the usual site-packages locations.</summary>
    public static IEnumerable<string> Candidates()
    {
        string? forced = Environment.GetEnvironmentVariable(LibraryVariable);
        if (!string.IsNullOrEmpty(forced))
        {
            yield return forced;
            yield break;
        }
        yield return "libnccl.so.2";
        foreach (string root in (string[])["/usr/local/lib", "/usr/lib", System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local/lib")])
        {
            if (!Directory.Exists(root)) continue;
            foreach (string python in Directory.EnumerateDirectories(root, "python3*"))
                foreach (string packages in (string[])["dist-packages", "site-packages"])
                {
                    string candidate = System.IO.Path.Combine(python, packages, "nvidia/nccl/lib/libnccl.so.2");
                    if (File.Exists(candidate)) yield return candidate;
                }
        }
    }

    /// <summary>Loads NCCL once per process; throws <see cref="DistributedException"/> saying where to get it.</summary>
    public static NcclLibrary Load()
    {
        lock (s_lock)
        {
            if (s_loaded != null) return s_loaded;
            var tried = new List<string>();
            foreach (string candidate in Candidates())
            {
                if (NativeLibrary.TryLoad(candidate, out nint handle))
                {
                    s_loaded = new NcclLibrary(handle, candidate);
                    return s_loaded;
                }
                tried.Add(candidate);
            }
            throw new DistributedException($"NCCL could not be loaded (tried {string.Join(", ", tried)}): {InstallHint}.");
        }
    }

    /// <summary>NCCL's version code, e.g. 22805 for 2.28.5.</summary>
    public int Version
    {
        get
        {
            int version;
            Check(_getVersion(&version), "ncclGetVersion", 0);
            return version;
        }
    }

    public NcclUniqueId GetUniqueId()
    {
        NcclUniqueId id = default;
        Check(_getUniqueId(&id), "ncclGetUniqueId", 0);
        return id;
    }

    public nint CommInitRank(int worldSize, NcclUniqueId id, int rank)
    {
        nint comm;
        Check(_commInitRank(&comm, worldSize, id, rank), "ncclCommInitRank", 0);
        return comm;
    }

    public void CommDestroy(nint comm) => Check(_commDestroy(comm), "ncclCommDestroy", comm);

    public void CommAbort(nint comm) => Check(_commAbort(comm), "ncclCommAbort", comm);

    /// <summary>Throws when a communicator has failed asynchronously (a peer died, a network error).</summary>
    public void CheckAsyncError(nint comm)
    {
        NcclResult pending;
        Check(_commGetAsyncError(comm, &pending), "ncclCommGetAsyncError", comm);
        Check(pending, "NCCL (asynchronous)", comm);
    }

    public void AllReduce(nint send, nint receive, long count, NcclDataType type, NcclRedOp op, nint comm, nint stream) =>
        Check(_allReduce(send, receive, checked((nuint)count), type, op, comm, stream), "ncclAllReduce", comm);

    public void Broadcast(nint send, nint receive, long count, NcclDataType type, int root, nint comm, nint stream) =>
        Check(_broadcast(send, receive, checked((nuint)count), type, root, comm, stream), "ncclBroadcast", comm);

    public void Check(NcclResult result, string function, nint comm)
    {
        if (result is NcclResult.Success or NcclResult.InProgress) return;
        string detail = comm != 0 ? Marshal.PtrToStringUTF8(_getLastError(comm)) ?? "" : "";
        throw new DistributedException(Describe(result, function, Marshal.PtrToStringUTF8(_getErrorString(result)), detail));
    }

    /// <summary>The one-line error for a failed NCCL call (NCCL's strings when there are any, the code's name always).</summary>
    public static string Describe(NcclResult result, string function, string? errorString, string? lastError)
    {
        string name = Enum.IsDefined(result) ? "nccl" + result : $"ncclResult {(int)result}";
        string text = string.IsNullOrWhiteSpace(errorString) ? "" : $": {errorString.Trim()}";
        string last = string.IsNullOrWhiteSpace(lastError) ? "" : $" ({lastError.Trim()})";
        return $"{function} failed with {name}{text}{last}.";
    }

    private static nint Function(nint library, string name) =>
        NativeLibrary.TryGetExport(library, name, out nint address)
            ? address
            : throw new DistributedException($"the NCCL library lacks {name} (NCCL 2.13 or later is needed).");
}
