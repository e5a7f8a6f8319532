using Loader.Trainer.Commands;
using Loader.Trainer.Data;
using Loader.Trainer.Training;

namespace Loader.Trainer.Distributed;

/// <summary>The parts of `trainer train` that exist only on several ranks, kept here so the command stays readable.</summary>
internal static class DistributedTraining
{
    /// <summary>What every rank must agree on before the first step: the model, the recipe's numbers and what the
    /// data looks like from each rank (a rank that opened another data set, or another version of it, differs here).</summary>
    public static IReadOnlyList<AgreedSetting> SettingsToAgree(TrainArguments args, int classes, IBatchSource train, IBatchSource? validation) =>
    [
        AgreedSetting.Of("--arch", args.Arch.ToLowerInvariant()),
        AgreedSetting.Of("--batch", args.Batch),
        AgreedSetting.Of("--seed", unchecked((long)args.Seed)),
        AgreedSetting.Of("--epochs", args.Epochs),
        AgreedSetting.Of("--image-size", args.ImageSize),
        AgreedSetting.Of("--amp", args.Amp.ToString()),
        AgreedSetting.Of("--loader", args.Loader),
        AgreedSetting.Of("--channels-last", args.ChannelsLast ? 1 : 0),
        AgreedSetting.Of("--resume", args.Resume ?? ""),
        AgreedSetting.Of("class count", classes),
        AgreedSetting.Of("training set size", train is LoaderBatchSource records ? records.DatasetSize : train.SamplesPerEpoch),
        AgreedSetting.Of("training batches per epoch", train.BatchesPerEpoch),
        AgreedSetting.Of("validation set size", validation is LoaderBatchSource val ? val.DatasetSize : -1),
    ];

    /// <summary>A rank other than 0: the same epochs, collectives and decisions as rank 0, and no output of its own
    /// (rank 0 writes the checkpoint, the metrics, the TensorBoard log and the plots).</summary>
    public static int RunFollower(TrainingSession session, CancellationToken cancellation)
    {
        while (!session.Finished)
        {
            if (session.RunEpoch(cancellation) is null) return 130;
        }
        return 0;
    }
}
