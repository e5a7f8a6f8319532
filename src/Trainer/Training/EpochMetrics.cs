using System.Text.Json.Serialization;

namespace Loader.Trainer.Training;

/// <summary>One line of the metrics file (JSON lines): the figures of one finished epoch (1-based).</summary>
public sealed record EpochMetrics
{
    [JsonPropertyName("epoch")] public int Epoch { get; init; }
    [JsonPropertyName("train_loss")] public double TrainLoss { get; init; }
    [JsonPropertyName("val_top1")] public double? ValTop1 { get; init; }
    [JsonPropertyName("val_top5")] public double? ValTop5 { get; init; }
    [JsonPropertyName("val_loss")] public double? ValLoss { get; init; }
    [JsonPropertyName("images_per_sec")] public double ImagesPerSec { get; init; }
    [JsonPropertyName("lr")] public double LearningRate { get; init; }
    [JsonPropertyName("seconds")] public double Seconds { get; init; }
    [JsonPropertyName("steps")] public long GlobalStep { get; init; }
    [JsonPropertyName("skipped_steps")] public long SkippedSteps { get; init; }
    [JsonPropertyName("loss_scale")] public double? LossScale { get; init; }
}

/// <summary>What the progress display gets after each step. <see cref="Loss"/> is NaN on steps that did not sync.</summary>
public readonly record struct StepInfo(int Epoch, int BatchInEpoch, int BatchesPerEpoch, long GlobalStep, double Loss,
                                       double LearningRate, double ImagesPerSecond);

/// <summary>Top-1/top-5 accuracy (percent) and mean loss over a validation set.</summary>
public readonly record struct EvalResult(double Top1, double Top5, double Loss, long Samples, double ImagesPerSecond);
