using Loader.Trainer.Precision;

namespace Loader.Trainer.Commands;

/// <summary>Everything `trainer train` was asked to do.</summary>
public sealed record TrainArguments
{
    public string? Data { get; init; }
    public string? Val { get; init; }
    public string Arch { get; init; } = "resnet50";
    public int? Classes { get; init; }
    public int Epochs { get; init; } = 90;
    public int Batch { get; init; } = 256;
    public int ImageSize { get; init; } = 224;
    public string Loader { get; init; } = "cpu";
    public AmpMode Amp { get; init; } = AmpMode.Off;
    public string? Metrics { get; init; }
    public string Output { get; init; } = "runs/train";
    public string? Resume { get; init; }
    public string? InitFrom { get; init; }
    public double? LearningRatePer256 { get; init; }
    public double? WarmupEpochs { get; init; }
    public double? MixUp { get; init; }
    public double LabelSmoothing { get; init; } = 0.1;
    public double? WeightDecay { get; init; }
    public double? Momentum { get; init; }
    public bool ZeroInitResidual { get; init; }
    public ulong Seed { get; init; }
    public int Threads { get; init; } = Environment.ProcessorCount;
    public int? TorchThreads { get; init; }
    public double MinCropScale { get; init; } = 0.08;
    public int? EvalResize { get; init; }
    public int SyntheticSteps { get; init; } = 50;
    public string Device { get; init; } = "auto";
    public LossScalerOptions LossScaler { get; init; } = new();
    public bool ChannelsLast { get; init; }

    /// <summary>Resume even where batch, image size, epochs, seed or data differ from the checkpoint's.</summary>
    public bool ResumeOverride { get; init; }

    /// <summary>Distributed runs: the gradient all-reduce's bucket size in MiB (Horovod's fusion threshold).</summary>
    public int FusionMegabytes { get; init; } = 64;
}
