using System.Globalization;
using Loader.Trainer.Training;
using Spectre.Console;

namespace Loader.Trainer.Commands;

/// <summary>
/// A Spectre.Console progress bar per epoch with images/s, loss and LR on a terminal; a plain line every tenth of an
/// epoch when the output is redirected (logs, CI).
/// </summary>
internal static class ProgressDisplay
{
    public static void Run(TrainingSession session, int batchesPerEpoch, Action<StepInfo> onStep, Action<Action<EpochMetrics>> body)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            int every = Math.Max(1, batchesPerEpoch / 10);
            double lastLoss = double.NaN;
            session.StepCompleted = step =>
            {
                onStep(step);
                if (!double.IsNaN(step.Loss)) lastLoss = step.Loss;
                if (step.BatchInEpoch % every == 0 || step.BatchInEpoch == step.BatchesPerEpoch)
                    Console.WriteLine(Describe(step, lastLoss));
            };
            body(Report);
            return;
        }
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                ProgressTask? task = null;
                double lastLoss = double.NaN;
                session.StepCompleted = step =>
                {
                    onStep(step);
                    if (!double.IsNaN(step.Loss)) lastLoss = step.Loss;
                    if (task is null || task.IsFinished)
                        task = context.AddTask($"epoch {step.Epoch + 1}", maxValue: step.BatchesPerEpoch);
                    task.Value = step.BatchInEpoch;
                    task.Description = Markup.Escape(Describe(step, lastLoss));
                };
                body(metrics =>
                {
                    if (task != null) task.Value = task.MaxValue;
                    Report(metrics);
                });
            });
    }

    // The loss is read back from the device only every few steps (never .item() every step); until the first read, "-".
    private static string Describe(StepInfo step, double loss) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {step.Epoch + 1} step {step.BatchInEpoch}/{step.BatchesPerEpoch} loss {(double.IsNaN(loss) ? "-" : loss.ToString("F4", CultureInfo.InvariantCulture))} lr {step.LearningRate:G4} {step.ImagesPerSecond:F1} img/s");

    private static void Report(EpochMetrics m) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"epoch {m.Epoch}: train_loss {m.TrainLoss:F4} val_top1 {m.ValTop1?.ToString("F2", CultureInfo.InvariantCulture) ?? "-"} val_top5 {m.ValTop5?.ToString("F2", CultureInfo.InvariantCulture) ?? "-"} images/s {m.ImagesPerSec:F1} ({m.Seconds:F0} s)"));
}
