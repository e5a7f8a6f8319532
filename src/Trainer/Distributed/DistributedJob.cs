using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Loader.Trainer.Distributed;

/// <summary>
/// This process's place in a data-parallel job, for the commands: the launch read from the environment, the training
/// device picked by local rank, the communicator, and the global-batch arithmetic. One per process
/// (<see cref="Current"/>), so that an error anywhere can end the whole job instead of leaving the other ranks waiting.
/// </summary>
public sealed class DistributedJob : IDisposable
{
    private static DistributedJob? s_current;

    private DistributedJob(LaunchEnvironment launch, Communicator communicator, Device device, long fusionBytes)
    {
        Launch = launch;
        Communicator = communicator;
        Device = device;
        DataParallel = communicator.WorldSize > 1 ? new DataParallel(communicator, fusionBytes) : null;
    }

    /// <summary>The job this process belongs to, once started.</summary>
    public static DistributedJob? Current => s_current;

    public LaunchEnvironment Launch { get; }

    public Communicator Communicator { get; }

    /// <summary>The device this rank trains on (for CUDA, the GPU of its local rank).</summary>
    public Device Device { get; }

    /// <summary>Null for a single process: the session then runs exactly as it always did.</summary>
    public DataParallel? DataParallel { get; }

    public int Rank => Communicator.Rank;

    public int WorldSize => Communicator.WorldSize;

    /// <summary>Rank 0 writes checkpoints, metrics, TensorBoard logs, plots and the console output.</summary>
    public bool IsRoot => Communicator.IsRoot;

    /// <summary>Reads the launch, picks the device and starts the communicator (MPI, NCCL for CUDA) when there is more
    /// than one rank. <paramref name="device"/> is the device the arguments asked for.</summary>
    public static DistributedJob Start(Device device, long fusionBytes = GradientBuffer.DefaultFusionBytes)
    {
        if (s_current != null) throw new InvalidOperationException("a distributed job is already running in this process.");
        LaunchEnvironment launch = LaunchEnvironment.Detect();
        Device mine = Communicator.PickDevice(device, launch, device.type == DeviceType.CUDA ? (int)cuda.device_count() : 0);
        Communicator communicator = Communicator.Create(launch, mine);
        s_current = new DistributedJob(launch, communicator, mine, fusionBytes);
        return s_current;
    }

    /// <summary>This rank's share of the global batch; the global batch must divide evenly.</summary>
    public int PerRankBatch(int globalBatch)
    {
        if (globalBatch % WorldSize != 0 || globalBatch < WorldSize)
            throw new ArgumentException(
                $"--batch {globalBatch} is the global batch and must be a multiple of the {WorldSize} ranks (each rank takes batch / ranks).");
        return globalBatch / WorldSize;
    }

    /// <summary>The samples of an evaluation set of <paramref name="datasetSize"/> samples that are this rank's own:
    /// positions p with p mod world = rank (the loader pads the shorter shares by wrapping around).</summary>
    public long EvaluationShare(long datasetSize) => (datasetSize - Rank + WorldSize - 1) / WorldSize;

    /// <summary>The start-up line: rank, world, launcher, transport, device.</summary>
    public string Describe() => WorldSize == 1
        ? string.Create(CultureInfo.InvariantCulture, $"single process on {Device}{(Launch.Note is { } note ? $" ({note})" : "")}")
        : string.Create(CultureInfo.InvariantCulture,
            $"rank {Rank} of {WorldSize} (local rank {Launch.LocalRank}, {Launch.Launcher}) on {Device}, collectives over {Communicator.Description}");

    /// <summary>Ends every rank of the running job, if there is one with more than one rank (after an error on this
    /// rank, so that no rank waits forever in a collective). Returns when there is none.</summary>
    public static void AbortIfDistributed(int code)
    {
        if (s_current is { WorldSize: > 1 } job) job.Communicator.Abort(code);
    }

    public void Dispose()
    {
        DataParallel?.Dispose();
        Communicator.Dispose();
        if (ReferenceEquals(s_current, this)) s_current = null;
    }
}
