using System.Globalization;

namespace Loader.Trainer.Commands;

/// <summary>`trainer train`'s numeric options, checked before anything is built: a bad value is a usage error naming
/// the option, never a libtorch error later or a value silently changed.</summary>
internal static class TrainArgumentChecks
{
    public static void Validate(TrainArguments a)
    {
        AtLeast("--epochs", a.Epochs, 1);
        AtLeast("--batch", a.Batch, 1);
        AtLeast("--image-size", a.ImageSize, 8);
        AtLeast("--threads", a.Threads, 1);
        AtLeast("--synthetic-steps", a.SyntheticSteps, 1);
        if (a.Classes is { } classes) AtLeast("--classes", classes, 1);
        if (a.TorchThreads is { } torchThreads) AtLeast("--torch-threads", torchThreads, 1);
        if (a.EvalResize is { } evalResize) AtLeast("--eval-resize", evalResize, a.ImageSize);
        Positive("--lr", a.LearningRatePer256);
        NonNegative("--warmup-epochs", a.WarmupEpochs);
        NonNegative("--mixup", a.MixUp);
        NonNegative("--weight-decay", a.WeightDecay);
        NonNegative("--momentum", a.Momentum);
        InRange("--label-smoothing", a.LabelSmoothing, 0, 1, upperOpen: true);
        InRange("--min-crop-scale", a.MinCropScale, 0, 1, upperOpen: false, lowerOpen: true);
    }

    private static void AtLeast(string option, int value, int minimum)
    {
        if (value < minimum) throw Error(option, value, $"expected at least {minimum}");
    }

    private static void Positive(string option, double? value)
    {
        if (value is { } v && !(double.IsFinite(v) && v > 0)) throw Error(option, v, "expected a positive number");
    }

    private static void NonNegative(string option, double? value)
    {
        if (value is { } v && !(double.IsFinite(v) && v >= 0)) throw Error(option, v, "expected 0 or more");
    }

    private static void InRange(string option, double v, double low, double high, bool upperOpen, bool lowerOpen = false)
    {
        bool ok = double.IsFinite(v) && (lowerOpen ? v > low : v >= low) && (upperOpen ? v < high : v <= high);
        if (!ok) throw Error(option, v, $"expected {(lowerOpen ? "more than" : "at least")} {low} and {(upperOpen ? "less than" : "at most")} {high}");
    }

    private static ArgumentException Error(string option, double value, string expected) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{option} {value}: {expected}"));
}
