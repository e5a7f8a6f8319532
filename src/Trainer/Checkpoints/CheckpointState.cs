using Loader.Trainer.Precision;
using Loader.Trainer.Training;

namespace Loader.Trainer.Checkpoints;

/// <summary>
/// Everything but the tensors: where training stands and what produced it. Stored as state.json beside model.bin
/// (TorchSharp's format: weights, BN running statistics) and optimizer.bin (SGD state with momentum buffers).
/// </summary>
public sealed record CheckpointState
{
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;
    public required string Arch { get; init; }
    public required int Classes { get; init; }
    public int ImageSize { get; init; }
    public bool ZeroInitResidual { get; init; }

    /// <summary>The epoch in progress (0-based) and the samples of it already trained on.</summary>
    public int Epoch { get; init; }
    public long Position { get; init; }
    public long GlobalStep { get; init; }

    /// <summary>The running loss of the unfinished epoch, so its mean comes out as in an uninterrupted run.</summary>
    public double EpochLossSum { get; init; }
    public long EpochSamples { get; init; }

    /// <summary>The loader's seed: with (Epoch, Position) it is the loader state.</summary>
    public ulong Seed { get; init; }
    public string Amp { get; init; } = "off";
    public LossScalerState? LossScaler { get; init; }

    /// <summary>torch's global CPU generator (base64), so anything drawn from it continues the same sequence.</summary>
    public string? TorchRngState { get; init; }

    public int Epochs { get; init; }
    public int GlobalBatch { get; init; }
    public List<EpochMetrics> History { get; init; } = [];
}
