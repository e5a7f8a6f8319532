using System.Runtime.InteropServices;
using System.Text;

namespace Loader.Trainer.Distributed.Interop;

/// <summary>
/// The few MPI functions data-parallel training needs, bound at run time over the system's MPI library with
/// <see cref="NativeLibrary"/> (MPI.NET binds MS-MPI only). Two ABIs exist on Linux:
/// <list type="bullet">
/// <item>Open MPI (<c>libmpi.so.40</c>): a handle is the address of an exported global (<c>MPI_COMM_WORLD</c> is
/// <c>&amp;ompi_mpi_comm_world</c>), <c>MPI_IN_PLACE</c> is <c>(void*)1</c>.</item>
/// <item>MPICH and its derivatives (<c>libmpich.so.12</c>, Intel MPI's <c>libmpi.so.12</c>): a handle is an
/// <c>int</c> constant from <c>mpi.h</c>, <c>MPI_IN_PLACE</c> is <c>(void*)-1</c>.</item>
/// </list>
/// Handles travel as <see cref="nint"/> in both cases: under the x86-64 and AArch64 System V calling conventions an
/// <c>int</c> argument occupies the low half of its register or 8-byte stack slot and the callee ignores the rest,
/// so one set of function pointer types serves both ABIs. Every call's return code is checked
/// (<see cref="Check"/>); the world communicator is switched to <c>MPI_ERRORS_RETURN</c> right after init so
/// that errors come back as codes instead of killing the process from inside the library.
/// </summary>
internal sealed unsafe class MpiLibrary
{
    /// <summary>Set to a path to load that MPI library instead of searching.</summary>
    public const string LibraryVariable = "TRAINER_MPI_LIBRARY";

    public const string InstallHint =
        "install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev) or MPICH (apt-get install mpich), " +
        "or point " + LibraryVariable + " at the libmpi.so to use";

    /// <summary>Searched in this order: Open MPI 4 and 5, MPICH, Intel MPI / MPICH-ABI builds.</summary>
    public static readonly string[] Candidates = ["libmpi.so.40", "libmpich.so.12", "libmpi.so.12", "libmpi.so"];

    /// <summary>The MPICH-ABI libraries first, for ranks that MPICH's Hydra started.</summary>
    private static readonly string[] MpichFirst = ["libmpich.so.12", "libmpi.so.12", "libmpi.so.40", "libmpi.so"];

    /// <summary>
    /// The search order for this process: a rank started by MPICH's <c>mpiexec</c> (Hydra sets <c>PMI_RANK</c>; Open
    /// MPI's <c>mpirun</c> sets <c>OMPI_COMM_WORLD_RANK</c>) must load MPICH's library even where Open MPI is installed
    /// too (Debian can have both): Open MPI's would start a world of one, which the trainer's start-up check then refuses.
    /// <c>srun --mpi=pmi2</c> sets <c>PMI_RANK</c> too and takes MPICH's library the same way (Debian's Open MPI talks
    /// only PMIx to Slurm); <c>srun --mpi=pmix</c> sets no <c>PMI_RANK</c> and keeps Open MPI first.
    /// </summary>
    public static IReadOnlyList<string> CandidatesFor(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        bool startedByHydra = !string.IsNullOrEmpty(environment("PMI_RANK")) && string.IsNullOrEmpty(environment("OMPI_COMM_WORLD_RANK"));
        return startedByHydra ? MpichFirst : Candidates;
    }

    private const int MpiSuccess = 0;
    private const int MpiThreadMultiple = 3;   // the same value in both ABIs (MPI_THREAD_SINGLE..MULTIPLE = 0..3)
    private const int MpiMaxErrorString = 512; // 256 in Open MPI, 1024 in MPICH; MPI_Error_string writes at most that

    private static readonly Lock s_lock = new();
    private static MpiLibrary? s_loaded;

    private readonly delegate* unmanaged<int*, nint, int, int*, int> _initThread;
    private readonly delegate* unmanaged<int*, int> _initialized;
    private readonly delegate* unmanaged<int*, int> _finalized;
    private readonly delegate* unmanaged<int> _finalize;
    private readonly delegate* unmanaged<nint, int*, int> _commRank;
    private readonly delegate* unmanaged<nint, int*, int> _commSize;
    private readonly delegate* unmanaged<nint, nint, int> _commSetErrhandler;
    private readonly delegate* unmanaged<nint, nint, int, nint, nint, nint, int> _allreduce;
    private readonly delegate* unmanaged<nint, int, nint, int, nint, int> _bcast;
    private readonly delegate* unmanaged<nint, int, nint, nint, int, nint, nint, int> _allgather;
    private readonly delegate* unmanaged<nint, int> _barrier;
    private readonly delegate* unmanaged<nint, int, int> _abort;
    private readonly delegate* unmanaged<int, byte*, int*, int> _errorString;

    private MpiLibrary(nint library, string path)
    {
        Path = path;
        IsOpenMpi = NativeLibrary.TryGetExport(library, "ompi_mpi_comm_world", out nint commWorld);
        if (IsOpenMpi)
        {
            CommWorld = commWorld;
            Byte = Global(library, "ompi_mpi_byte");
            Int32 = Global(library, "ompi_mpi_int");
            Int64 = Global(library, "ompi_mpi_long_long_int");
            Float = Global(library, "ompi_mpi_float");
            Double = Global(library, "ompi_mpi_double");
            OpSum = Global(library, "ompi_mpi_op_sum");
            OpMax = Global(library, "ompi_mpi_op_max");
            OpMin = Global(library, "ompi_mpi_op_min");
            ErrorsReturn = Global(library, "ompi_mpi_errors_return");
            InPlace = 1;
        }
        else
        {
            // MPICH's mpi.h (identical in Intel MPI and MVAPICH).
            CommWorld = 0x44000000;
            Byte = 0x4c00010d;
            Int32 = 0x4c000405;
            Int64 = 0x4c000809;  // MPI_LONG_LONG_INT
            Float = 0x4c00040a;
            Double = 0x4c00080b;
            OpMax = 0x58000001;
            OpMin = 0x58000002;
            OpSum = 0x58000003;
            ErrorsReturn = 0x54000001;
            InPlace = -1;
        }
        _initThread = (delegate* unmanaged<int*, nint, int, int*, int>)Function(library, "MPI_Init_thread");
        _initialized = (delegate* unmanaged<int*, int>)Function(library, "MPI_Initialized");
        _finalized = (delegate* unmanaged<int*, int>)Function(library, "MPI_Finalized");
        _finalize = (delegate* unmanaged<int>)Function(library, "MPI_Finalize");
        _commRank = (delegate* unmanaged<nint, int*, int>)Function(library, "MPI_Comm_rank");
        _commSize = (delegate* unmanaged<nint, int*, int>)Function(library, "MPI_Comm_size");
        _commSetErrhandler = (delegate* unmanaged<nint, nint, int>)Function(library, "MPI_Comm_set_errhandler");
        _allreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, int>)Function(library, "MPI_Allreduce");
        _bcast = (delegate* unmanaged<nint, int, nint, int, nint, int>)Function(library, "MPI_Bcast");
        _allgather = (delegate* unmanaged<nint, int, nint, nint, int, nint, nint, int>)Function(library, "MPI_Allgather");
        _barrier = (delegate* unmanaged<nint, int>)Function(library, "MPI_Barrier");
        _abort = (delegate* unmanaged<nint, int, int>)Function(library, "MPI_Abort");
        _errorString = (delegate* unmanaged<int, byte*, int*, int>)Function(library, "MPI_Error_string");
    }

    /// <summary>The file that was loaded.</summary>
    public string Path { get; }

    /// <summary>Open MPI's ABI (pointer handles) rather than MPICH's (int handles).</summary>
    public bool IsOpenMpi { get; }

    public nint CommWorld { get; }
    public nint Byte { get; }
    public nint Int32 { get; }
    public nint Int64 { get; }
    public nint Float { get; }
    public nint Double { get; }
    public nint OpSum { get; }
    public nint OpMax { get; }
    public nint OpMin { get; }
    public nint ErrorsReturn { get; }
    public nint InPlace { get; }

    /// <summary>Loads the MPI library once per process (from <see cref="LibraryVariable"/>, else the first of
    /// <see cref="CandidatesFor"/> that loads); throws <see cref="DistributedException"/> naming the packages to install.</summary>
    public static MpiLibrary Load()
    {
        lock (s_lock)
        {
            if (s_loaded != null) return s_loaded;
            string? forced = Environment.GetEnvironmentVariable(LibraryVariable);
            IReadOnlyList<string> names = string.IsNullOrEmpty(forced) ? CandidatesFor(Environment.GetEnvironmentVariable) : [forced];
            var failures = new List<string>();
            foreach (string name in names)
            {
                if (NativeLibrary.TryLoad(name, out nint handle))
                {
                    s_loaded = new MpiLibrary(handle, name);
                    return s_loaded;
                }
                failures.Add(name);
            }
            throw new DistributedException($"no MPI library could be loaded (tried {string.Join(", ", failures)}): {InstallHint}.");
        }
    }

    /// <summary>Loads a specific MPI library file, for tests that exercise one ABI.</summary>
    public static MpiLibrary LoadFrom(string path) =>
        NativeLibrary.TryLoad(path, out nint handle)
            ? new MpiLibrary(handle, path)
            : throw new DistributedException($"{path}: could not be loaded: {InstallHint}.");

    /// <summary>Initializes MPI (thread level MULTIPLE requested) unless something already did, and makes errors on
    /// the world communicator return codes. Returns the thread level MPI provides.</summary>
    public int Initialize()
    {
        int initialized, provided = MpiThreadMultiple;
        Check(_initialized(&initialized), "MPI_Initialized");
        if (initialized == 0) Check(_initThread(null, 0, MpiThreadMultiple, &provided), "MPI_Init_thread");
        Check(_commSetErrhandler(CommWorld, ErrorsReturn), "MPI_Comm_set_errhandler");
        return provided;
    }

    public bool IsFinalized
    {
        get
        {
            int finalized;
            Check(_finalized(&finalized), "MPI_Finalized");
            return finalized != 0;
        }
    }

    public void Shutdown() => Check(_finalize(), "MPI_Finalize");

    public int CommRank(nint comm)
    {
        int rank;
        Check(_commRank(comm, &rank), "MPI_Comm_rank");
        return rank;
    }

    public int CommSize(nint comm)
    {
        int size;
        Check(_commSize(comm, &size), "MPI_Comm_size");
        return size;
    }

    public void Allreduce(nint send, nint receive, int count, nint datatype, nint op, nint comm) =>
        Check(_allreduce(send, receive, count, datatype, op, comm), "MPI_Allreduce");

    public void Bcast(nint buffer, int count, nint datatype, int root, nint comm) =>
        Check(_bcast(buffer, count, datatype, root, comm), "MPI_Bcast");

    public void Allgather(nint send, int sendCount, nint sendType, nint receive, int receiveCount, nint receiveType, nint comm) =>
        Check(_allgather(send, sendCount, sendType, receive, receiveCount, receiveType, comm), "MPI_Allgather");

    public void Barrier(nint comm) => Check(_barrier(comm), "MPI_Barrier");

    /// <summary>Ends every process of the job (MPI_Abort does not return on success).</summary>
    public void Abort(nint comm, int code) => Check(_abort(comm, code), "MPI_Abort");

    /// <summary>Throws <see cref="DistributedException"/> with MPI's own text for a failed call.</summary>
    public void Check(int code, string function)
    {
        if (code != MpiSuccess) Throw(code, function);
    }

    private void Throw(int code, string function) =>
        throw new DistributedException($"{function} failed: {ErrorString(code)} (MPI error {code}, {Path}).");

    public string ErrorString(int code)
    {
        byte* text = stackalloc byte[MpiMaxErrorString * 2];
        int length = 0;
        if (_errorString(code, text, &length) != MpiSuccess) return "unknown error";
        return Encoding.UTF8.GetString(text, Math.Clamp(length, 0, MpiMaxErrorString * 2));
    }

    private static nint Global(nint library, string name) =>
        NativeLibrary.TryGetExport(library, name, out nint address)
            ? address
            : throw new DistributedException($"the MPI library lacks {name}: not the Open MPI ABI this binding knows.");

    private static nint Function(nint library, string name) =>
        NativeLibrary.TryGetExport(library, name, out nint address)
            ? address
            : throw new DistributedException($"the MPI library lacks {name}.");
}
