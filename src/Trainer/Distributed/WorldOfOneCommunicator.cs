using static TorchSharp.torch;

namespace Loader.Trainer.Distributed;

/// <summary>A job of one process: every collective's result is the process's own input, so nothing moves.</summary>
internal sealed class WorldOfOneCommunicator(int localRank) : Communicator(localRank)
{
    public override int Rank => 0;

    public override int WorldSize => 1;

    public override string Description => "single process";

    public override void AllReduceSum(Tensor tensor) { }

    public override void Broadcast(Tensor tensor, int root) => ArgumentOutOfRangeException.ThrowIfNotEqual(root, 0);

    public override void AllReduce(Span<long> values, ReduceOperation operation) { }

    public override void AllReduce(Span<double> values, ReduceOperation operation) { }

    public override void AllGather(ReadOnlySpan<long> mine, Span<long> all) => mine.CopyTo(all);

    public override void Barrier() { }

    public override void Abort(int code) { }
}
