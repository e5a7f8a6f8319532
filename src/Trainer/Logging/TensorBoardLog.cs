using Loader.Trainer.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Loader.Trainer.Logging;

/// <summary>TensorBoard event files (TorchSharp's SummaryWriter): per-step loss and LR, per-epoch accuracy and speed.</summary>
public sealed class TensorBoardLog
{
    private readonly SummaryWriter _writer;

    public TensorBoardLog(string directory)
    {
        Directory.CreateDirectory(directory);
        _writer = utils.tensorboard.SummaryWriter(directory);
    }

    public void Step(StepInfo step)
    {
        if (!double.IsNaN(step.Loss)) _writer.add_scalar("train/loss", (float)step.Loss, (int)step.GlobalStep);
        if (step.GlobalStep % 10 == 0) _writer.add_scalar("train/lr", (float)step.LearningRate, (int)step.GlobalStep);
    }

    public void Epoch(EpochMetrics metrics)
    {
        _writer.add_scalar("epoch/train_loss", (float)metrics.TrainLoss, metrics.Epoch);
        _writer.add_scalar("epoch/images_per_sec", (float)metrics.ImagesPerSec, metrics.Epoch);
        if (metrics.ValTop1 is { } top1) _writer.add_scalar("epoch/val_top1", (float)top1, metrics.Epoch);
        if (metrics.ValTop5 is { } top5) _writer.add_scalar("epoch/val_top5", (float)top5, metrics.Epoch);
        if (metrics.ValLoss is { } loss) _writer.add_scalar("epoch/val_loss", (float)loss, metrics.Epoch);
    }}
