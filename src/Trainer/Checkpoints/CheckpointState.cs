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

    /// <summary>The training data (null in checkpoints of older trainers): a resume on other data is an error.</summary>
    public DataSetIdentity? DataSet { get; init; }
    public List<EpochMetrics> History { get; init; } = [];

    /// <summary>What makes a read state unusable (null when nothing): a value no run writes.</summary>
    public static string? Problem(CheckpointState s)
    {
        if (s.Format != CurrentFormat) return $"checkpoint format {s.Format}; this trainer reads format {CurrentFormat}";
        if (s.Arch is null || !Models.ResNetSpec.Names.Contains(s.Arch, StringComparer.OrdinalIgnoreCase))
            return $"Arch: unknown architecture '{s.Arch}'";
        if (s.Classes < 1) return $"Classes: {s.Classes}, expected at least 1";
        if (s.ImageSize < 0) return $"ImageSize: {s.ImageSize}, expected 0 or more";
        if (s.Epoch < 0 || s.Position < 0 || s.GlobalStep < 0 || s.EpochSamples < 0)
            return $"Epoch {s.Epoch}, Position {s.Position}, GlobalStep {s.GlobalStep}, EpochSamples {s.EpochSamples}: expected 0 or more";
        if (s.Epochs < 0 || s.GlobalBatch < 0) return $"Epochs {s.Epochs}, GlobalBatch {s.GlobalBatch}: expected 0 or more";
        if (s.Epochs > 0 && s.Epoch > s.Epochs) return $"Epoch {s.Epoch} is past Epochs {s.Epochs}";
        if (s.History is null) return "History: null, expected a list";
        if (s.History.Any(h => h is null)) return "History: holds null";
        if (s.LossScaler is { } scaler && !(double.IsFinite(scaler.Scale) && scaler.Scale > 0))
            return $"LossScaler.Scale: {scaler.Scale}, expected a positive number";
        if (s.TorchRngState is { } rng && !Convert.TryFromBase64String(rng, new byte[rng.Length], out _))
            return "TorchRngState: not base64";
        return null;
    }
}
