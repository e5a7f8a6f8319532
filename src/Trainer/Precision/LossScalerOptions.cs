namespace Loader.Trainer.Precision;

/// <summary>Dynamic loss scaling, with PyTorch GradScaler's defaults.</summary>
public sealed record LossScalerOptions
{
    public double InitialScale { get; init; } = 65536;
    public double GrowthFactor { get; init; } = 2;
    public double BackoffFactor { get; init; } = 0.5;
    public int GrowthInterval { get; init; } = 2000;
}

/// <summary>What a checkpoint keeps of the scaler.</summary>
public readonly record struct LossScalerState(double Scale, int GoodSteps, long SkippedSteps);
