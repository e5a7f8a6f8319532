namespace Loader.Trainer.Recipe;

/// <summary>
/// NVIDIA DeepLearningExamples' ResNet-50 v1.5 recipe: SGD momentum 0.875, LR 0.256 per 256 images (scaled linearly
/// with the global batch), linear warmup (5 epochs for batches of 512 or more), cosine decay, weight decay 1/32768 on
/// convolution and linear weights only, label smoothing 0.1; the 250-epoch variant adds MixUp (alpha 0.2).
/// </summary>
public sealed record TrainingRecipe
{
    public const double DefaultLearningRatePer256 = 0.256;
    public const double DefaultWeightDecay = 1.0 / 32768;

    public int Epochs { get; init; } = 90;
    public int GlobalBatch { get; init; } = 256;
    public double LearningRatePer256 { get; init; } = DefaultLearningRatePer256;
    public double Momentum { get; init; } = 0.875;
    public double WeightDecay { get; init; } = DefaultWeightDecay;
    public double LabelSmoothing { get; init; } = 0.1;
    public double MixUpAlpha { get; init; }
    public double WarmupEpochs { get; init; }
    public double EndLearningRate { get; init; }

    /// <summary>LR 0.256 per 256 images, linear in the global batch (Goyal et al.).</summary>
    public double BaseLearningRate => LearningRatePer256 * GlobalBatch / 256.0;

    /// <summary>The recipe for <paramref name="epochs"/> and <paramref name="globalBatch"/>; null options take the defaults.</summary>
    public static TrainingRecipe Create(int epochs, int globalBatch, double? warmupEpochs = null, double? mixUpAlpha = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(globalBatch, 1);
        return new TrainingRecipe
        {
            Epochs = epochs,
            GlobalBatch = globalBatch,
            WarmupEpochs = Math.Min(warmupEpochs ?? (globalBatch >= 512 ? 5 : 0), epochs),
            // The 250-epoch preset is the MixUp one (78.4% top-1); shorter runs are better without it.
            MixUpAlpha = mixUpAlpha ?? (epochs >= 250 ? 0.2 : 0),
        };
    }

    public LearningRateSchedule Schedule(int stepsPerEpoch) => new(
        BaseLearningRate,
        (long)Math.Round(WarmupEpochs * stepsPerEpoch),
        (long)Epochs * stepsPerEpoch,
        EndLearningRate);
}
