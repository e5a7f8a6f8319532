using System.Globalization;

namespace Loader.Trainer.Checkpoints;

/// <summary>What a resumed run would be: the values a checkpoint is compared with.</summary>
public sealed record ResumedRun(string Arch, int Classes, int GlobalBatch, int ImageSize, int Epochs, ulong Seed, DataSetIdentity? DataSet);

/// <summary>
/// A resume continues the run the checkpoint was made by. Options that change its schedule (batch, epochs) or its data
/// (image size, seed, the data set) would make "continue exactly" false without a word; they are an error naming
/// each option and both values, unless --resume-override says the change is meant. The architecture and class count
/// cannot be overridden: the weights would not fit.
/// </summary>
public static class CheckpointCompatibility
{
    /// <summary>Throws when the run differs from the checkpoint; with <paramref name="allowOverride"/>, reports the
    /// differences on <paramref name="warnings"/> and returns them instead.</summary>
    public static IReadOnlyList<string> EnsureResumable(string checkpoint, CheckpointState saved, ResumedRun run, bool allowOverride, TextWriter warnings)
    {
        List<string> fixedDifferences = [];
        if (!string.Equals(saved.Arch, run.Arch, StringComparison.OrdinalIgnoreCase)) fixedDifferences.Add($"--arch {run.Arch}, the checkpoint's {saved.Arch}");
        if (saved.Classes != run.Classes) fixedDifferences.Add($"--classes {run.Classes}, the checkpoint's {saved.Classes}");
        if (fixedDifferences.Count > 0)
            throw new ArgumentException($"{checkpoint}: cannot resume another model: {string.Join("; ", fixedDifferences)}");

        List<string> differences = Differences(saved, run);
        if (differences.Count == 0) return differences;
        if (!allowOverride)
            throw new ArgumentException($"{checkpoint}: resuming would change the run: {string.Join("; ", differences)} (--resume-override resumes anyway)");
        warnings.WriteLine($"trainer: warning: {checkpoint}: resuming with changes (--resume-override): {string.Join("; ", differences)}");
        return differences;
    }

    /// <summary>The options that differ, each as "--option now, the checkpoint's then". Values an older checkpoint
    /// did not record (0 or null) are not compared.</summary>
    public static List<string> Differences(CheckpointState saved, ResumedRun run)
    {
        List<string> differences = [];
        void Compare<T>(string option, T then, T now, bool recorded)
        {
            if (recorded && !EqualityComparer<T>.Default.Equals(then, now))
                differences.Add(string.Create(CultureInfo.InvariantCulture, $"{option} {now}, the checkpoint's {then}"));
        }
        Compare("--batch", saved.GlobalBatch, run.GlobalBatch, saved.GlobalBatch > 0);
        Compare("--image-size", saved.ImageSize, run.ImageSize, saved.ImageSize > 0);
        Compare("--epochs", saved.Epochs, run.Epochs, saved.Epochs > 0);
        Compare("--seed", saved.Seed, run.Seed, recorded: true);
        if (saved.DataSet is { } then && run.DataSet is { } now)
        {
            Compare("--loader", then.Kind, now.Kind, recorded: true);
            if (then.Kind == now.Kind)
            {
                string data = now.Kind == "synthetic" ? "synthetic data:" : "--data:";
                Compare($"{data} records", then.Records, now.Records, recorded: true);
                Compare($"{data} classes", then.Classes, now.Classes, recorded: true);
                if (then.Fingerprint != null && now.Fingerprint != null)
                {
                    if (then.Fingerprint != now.Fingerprint)
                        differences.Add($"--data {now.Directory} holds other records (manifest shards differ) than the checkpoint's {then.Directory}");
                }
                else
                {
                    Compare("--data", then.Directory, now.Directory, recorded: true);
                }
            }
        }
        return differences;
    }
}
