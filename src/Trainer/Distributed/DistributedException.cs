namespace Loader.Trainer.Distributed;

/// <summary>
/// A distributed run cannot go on: the MPI or NCCL library is missing or failed, ranks disagree on the run's
/// arguments, or the replicas diverged. The message says which rank, which library call or which argument.
/// </summary>
public sealed class DistributedException : Exception
{
    public DistributedException() { }
    public DistributedException(string message) : base(message) { }
    public DistributedException(string message, Exception inner) : base(message, inner) { }
}
