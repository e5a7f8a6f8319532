using System.Globalization;

namespace Loader.Trainer.Distributed;

/// <summary>
/// Who started this process and where it stands in the job, read from the launcher's environment: Open MPI's
/// <c>mpirun</c> (<c>OMPI_COMM_WORLD_*</c>), MPICH's Hydra (<c>PMI_RANK</c>, <c>PMI_SIZE</c>, <c>MPI_LOCALRANKID</c>),
/// Slurm's <c>srun</c> (<c>SLURM_PROCID</c>, <c>SLURM_NTASKS</c>, <c>SLURM_LOCALID</c> of a job step), or torchrun (<c>RANK</c>,
/// <c>WORLD_SIZE</c>, <c>LOCAL_RANK</c>). Nothing set: one process. MPI's own rank and size (after init) are the
/// truth; these say whether to start MPI at all and which GPU is this rank's.
/// </summary>
public sealed record LaunchEnvironment(string Launcher, int Rank, int WorldSize, int LocalRank, bool ViaMpi)
{
    public static LaunchEnvironment Single { get; } = new("none", 0, 1, 0, ViaMpi: false);

    /// <summary>Said beside the start-up line of a single process that may not be what the user meant (null: nothing).</summary>
    public string? Note { get; init; }

    public static LaunchEnvironment Detect() => Detect(Environment.GetEnvironmentVariable);

    /// <summary>Reads the variables through <paramref name="variable"/> (tests pass a dictionary's lookup).</summary>
    public static LaunchEnvironment Detect(Func<string, string?> variable)
    {
        // Open MPI's and MPICH's launchers first: under Slurm they start their daemons with srun, so their ranks inherit
        // SLURM_* variables of the daemons' step (one task per node), which say nothing about the ranks themselves.
        LaunchEnvironment? mpi =
            From(variable, "Open MPI (mpirun)", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", viaMpi: true)
            ?? FromSrunTask(variable)
            ?? From(variable, "MPICH (mpiexec)", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", viaMpi: true);
        LaunchEnvironment? torchrun = From(variable, "torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK", viaMpi: false);
        if (mpi != null)
        {
            if (torchrun != null && (torchrun.Rank != mpi.Rank || torchrun.WorldSize != mpi.WorldSize))
                throw new DistributedException(
                    $"{mpi.Launcher} says rank {mpi.Rank} of {mpi.WorldSize}, but RANK/WORLD_SIZE say {torchrun.Rank} of {torchrun.WorldSize}: unset one of them.");
            return mpi;
        }
        if (torchrun is { WorldSize: > 1 })
            throw new DistributedException(
                $"launched by torchrun with WORLD_SIZE={torchrun.WorldSize}, but the trainer's collectives run over MPI: start the job with " +
                $"'mpirun -np {torchrun.WorldSize} ...' (or srun) instead; torchrun's LOCAL_RANK is honoured for a single process.");
        return torchrun ?? SingleUnderSlurm(variable) ?? Single;
    }

    /// <summary>
    /// A batch script's own process in an allocation of several tasks: one process, as nothing launched ranks, but
    /// the allocation is wasted unless the user meant that, so the start-up line says so (DDP under Slurm does the
    /// same: the script's own process is no rank of the allocation's).
    /// </summary>
    private static LaunchEnvironment? SingleUnderSlurm(Func<string, string?> variable) =>
        int.TryParse(variable("SLURM_NTASKS"), NumberStyles.None, CultureInfo.InvariantCulture, out int tasks) && tasks > 1
            ? Single with
            {
                Note = string.Create(CultureInfo.InvariantCulture,
                    $"Slurm allocated {tasks} tasks, but no srun, mpirun or mpiexec started this process: training as one; start it with 'srun' to use all {tasks}"),
            }
            : null;

    public bool IsDistributed => WorldSize > 1;

    /// <summary>
    /// A task that srun started: only srun's tasks have a step id (<c>SLURM_STEP_ID</c>, <c>SLURM_STEPID</c> before
    /// Slurm 20). A batch script has <c>SLURM_PROCID=0</c> and the allocation's <c>SLURM_NTASKS</c> too, but it is one
    /// process that no launcher started, so it is not a rank of that many. With <c>srun --mpi=pmi2</c> the task also
    /// has <c>PMI_RANK</c>/<c>PMI_SIZE</c>, equal to Slurm's, but no <c>MPI_LOCALRANKID</c>: Slurm's variables are
    /// taken, so that the local rank is <c>SLURM_LOCALID</c> (on several nodes not the global rank). MPICH's Hydra
    /// sets <c>MPI_LOCALRANKID</c>; its ranks, or PMI variables that disagree with Slurm's, are Hydra's, not srun's.
    /// </summary>
    private static LaunchEnvironment? FromSrunTask(Func<string, string?> variable)
    {
        if (string.IsNullOrEmpty(variable("SLURM_STEP_ID")) && string.IsNullOrEmpty(variable("SLURM_STEPID"))) return null;
        LaunchEnvironment? slurm = From(variable, "Slurm (srun)", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", viaMpi: true);
        if (slurm is null || !string.IsNullOrEmpty(variable("MPI_LOCALRANKID"))) return null;
        string? pmiRank = variable("PMI_RANK"), pmiSize = variable("PMI_SIZE");
        bool pmiAgrees = string.IsNullOrEmpty(pmiRank) ||
                         (pmiRank == slurm.Rank.ToString(CultureInfo.InvariantCulture) &&
                          pmiSize == slurm.WorldSize.ToString(CultureInfo.InvariantCulture));
        return pmiAgrees ? slurm : null;
    }

    private static LaunchEnvironment? From(Func<string, string?> variable, string launcher, string rankName, string sizeName,
                                           string localName, bool viaMpi)
    {
        string? rankText = variable(rankName), sizeText = variable(sizeName);
        if (string.IsNullOrEmpty(rankText) || string.IsNullOrEmpty(sizeText)) return null;
        int rank = Parse(rankName, rankText), size = Parse(sizeName, sizeText);
        if (size < 1 || rank < 0 || rank >= size)
            throw new DistributedException($"{launcher}: {rankName}={rankText} and {sizeName}={sizeText} do not make a rank of a world.");
        // A launcher that does not say (old Slurm, a hand-made environment): ranks are taken to be on one machine.
        string? localText = variable(localName);
        int local = string.IsNullOrEmpty(localText) ? rank : Parse(localName, localText);
        return new LaunchEnvironment(launcher, rank, size, local, viaMpi);
    }

    private static int Parse(string name, string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new DistributedException($"{name}={text}: not an integer.");
}
