using Loader.Trainer.Distributed;
using Loader.Trainer.Precision;

namespace Loader.Trainer.Training;

/// <summary>How a <see cref="TrainingSession"/> runs (the recipe says what it computes).</summary>
public sealed record SessionOptions
{
    public AmpMode Amp { get; init; } = AmpMode.Off;
    public LossScalerOptions LossScaler { get; init; } = new();
    public ulong Seed { get; init; }

    /// <summary>Convolution weights and inputs in channels-last memory order (<see cref="Models.ChannelsLast"/>).</summary>
    public bool ChannelsLast { get; init; }

    /// <summary>Steps between loss read-backs (each is a device sync on CUDA).</summary>
    public int LogInterval { get; init; } = 10;

    /// <summary>fp16: consecutive steps with a non-finite loss (each skipped by the scaler) before the run stops.</summary>
    public int NonFiniteLossPatience { get; init; } = 10;

    /// <summary>The training data, recorded in checkpoints so a resume can tell it is the same.</summary>
    public Checkpoints.DataSetIdentity? DataSet { get; init; }

    /// <summary>Data-parallel training over several ranks (null: this process alone). See <see cref="Distributed.DataParallel"/>.</summary>
    public DataParallel? DataParallel { get; init; }
}
