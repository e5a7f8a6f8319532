using System.CommandLine;
using System.Globalization;
using Loader.Augment.Jpeg;
using Loader.Tools.MakeRecords.Job;
using Loader.Tools.MakeRecords.Sanitizing;
using Spectre.Console;

namespace Loader.Tools.MakeRecords.Commands;

/// <summary>The main command: <c>--input DIR --output DIR [...]</c>.</summary>
internal static class MakeCommand
{
    public static RootCommand Create()
    {
        var input = new Option<string>("--input", "-i")
        { HelpName = "DIR",
            Description = "Input folder: class subfolders (ImageFolder), a flat folder of SYNSET_*.JPEG files (ImageNet's per-class training "
                          + "tars extracted into one folder), a folder of per-class tar files (n01440764.tar ..., read in place), the flat "
                          + "validation folder (with --labels), a folder of TFRecord files, or the root of --file-list paths. Layout detected; required",
            Required = true,
        };
        var output = new Option<string>("--output", "-o") { HelpName = "DIR", Description = "Output folder for shards, indexes and manifest.json; required", Required = true };
        var fileList = new Option<string?>("--file-list") { HelpName = "FILE", Description = "DALI-style file list: 'relative/path label' per line (label 0-based), paths relative to --input. Default: none (scan --input)" };
        var labels = new Option<string?>("--labels")
        { HelpName = "FILE",
            Description = "Validation labels for a flat folder of ILSVRC2012_val_NNNNNNNN images; format detected: LOC_val_solution.csv "
                          + "(ImageId,PredictionString), TF's one synset per line, or the devkit's ILSVRC2012_validation_ground_truth.txt "
                          + "(ids mapped by --synsets). Every file needs a label and every label a file. Default: none",
        };
        var synsets = new Option<string?>("--synsets")
        { HelpName = "FILE",
            Description = "For the devkit's ground truth: its ILSVRC2012_ID -> WNID mapping, the devkit's data/meta.mat or a text file of "
                          + "'ID WNID [words]' lines. Default: meta.mat in the folder of the --labels file",
        };
        var classesFrom = new Option<string?>("--classes-from")
        { HelpName = "DIR",
            Description = "Take the classes and their order from this training folder (images or tars) or training record set (its manifest), "
                          + "so labels match the training set's even when this input lacks a class. Default: the classes this input has",
        };
        var name = new Option<string?>("--name") { HelpName = "NAME", Description = "Shard name prefix: NAME-00000-of-00008.tfrecord. Default: the input folder's name" };
        var shards = new Option<int?>("--shards") { HelpName = "N", Description = "Number of shards (1..99999). Default: from --shard-size" };
        var shardSize = new Option<string>("--shard-size") { HelpName = "SIZE", Description = "Target shard size, e.g. 128MB or 1GB, when --shards is not given", DefaultValueFactory = _ => "128MB" };
        var seed = new Option<ulong>("--seed") { HelpName = "S", Description = "Seed of the record order (same input and seed: byte-identical output)", DefaultValueFactory = _ => 0UL };
        var threads = new Option<int>("--threads", "-j") { HelpName = "T", Description = "Worker threads (does not change the output); the default is this machine's core count", DefaultValueFactory = _ => Environment.ProcessorCount };
        var maxPixels = new Option<long>("--max-pixels") { HelpName = "N", Description = "Skip images whose header claims more pixels", DefaultValueFactory = _ => SanitizeOptions.DefaultMaxPixels };
        var maxSide = new Option<int?>("--max-side") { HelpName = "N", Description = "Downscale (re-encode) so the longer side is at most N pixels. Default: keep the size" };
        var quality = new Option<int>("--quality") { HelpName = "Q", Description = "JPEG quality (1..100) of re-encoded images", DefaultValueFactory = _ => 95 };
        var report = new Option<string?>("--report") { HelpName = "FILE", Description = "Write a JSON report: one entry per input file (status, reason, shard, record). Default: none" };
        var restart = new Option<string>("--restart-interval")
        { HelpName = "MODE",
            Description = "Rewrite every JPEG losslessly with restart markers so the loader decodes only the intervals a crop covers: "
                          + "auto (about 8 MCUs, dividing the row), rows (one per MCU row), N (at most N MCUs, dividing the row) or off",
            DefaultValueFactory = _ => "off",
        };
        var strict = new Option<bool>("--strict") { Description = "Exit 1 when any input was skipped. Default: off (skips are listed, exit 0)" };
        var applyExif = new Option<bool>("--apply-exif-orientation") { Description = "Re-encode JPEGs with an EXIF rotation upright. Default: off (stored byte for byte, as TensorFlow, torchvision and PIL keep them)" };
        var allowEmpty = new Option<bool>("--allow-empty-classes") { Description = "Keep class folders without files as classes with no records. Default: off (an error)" };
        var allowPartial = new Option<bool>("--allow-partial") { Description = "TFRecord input: take the files there even when the set cannot be shown complete (no manifest). Default: off (refused)" };

        var command = new RootCommand("Turns an image folder, ImageNet's tar files or validation folder, a file list or TFRecord files into shuffled, "
                                      + "sanitized, indexed TFRecord shards.\n"
                                      + "Subcommands: verify DIR, inspect DIR, index DIR, demo OUT, import-idx.\n"
                                      + "Exit codes: 0 done; 1 done, but --strict and an input was skipped; 2 not done (bad option, unreadable "
                                      + "input or label file, another run holds the output folder, full disk: the one-line message says which).")
        {
            input, output, fileList, labels, synsets, classesFrom, name, shards, shardSize, seed, threads, maxPixels, maxSide, quality, restart,
            report, strict, applyExif, allowEmpty, allowPartial,
        };
        command.SetAction(parse =>
        {
            try
            {
                var options = new MakeRecordsOptions(parse.GetValue(input)!, parse.GetValue(output)!)
                {
                    FileList = parse.GetValue(fileList),
                    Name = parse.GetValue(name),
                    Shards = parse.GetValue(shards),
                    ShardSize = ParseSize(parse.GetValue(shardSize)!),
                    Seed = parse.GetValue(seed),
                    Threads = parse.GetValue(threads),
                    Sanitize = new SanitizeOptions(parse.GetValue(maxPixels), parse.GetValue(maxSide), parse.GetValue(quality),
                                                   parse.GetValue(applyExif))
                    {
                        Restart = RestartMode.Parse(parse.GetValue(restart)!),
                    },
                    ReportPath = parse.GetValue(report),
                    Strict = parse.GetValue(strict),
                    AllowEmptyClasses = parse.GetValue(allowEmpty),
                    AllowPartial = parse.GetValue(allowPartial),
                    Labels = parse.GetValue(labels),
                    Synsets = parse.GetValue(synsets),
                    ClassesFrom = parse.GetValue(classesFrom),
                };
                return Run(options);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
            {
                ErrorOutput.Print(e);
                return 2;
            }
        });
        return command;
    }

    private static int Run(MakeRecordsOptions options)
    {
        var job = new MakeRecordsJob(options);
        JobResult result = ConsoleProgress.Run("records", () => job.ItemsTotal, () => job.ItemsDone, job.Run);
        RunReport report = result.Report;
        var table = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn(new TableColumn("").RightAligned());
        table.ShowHeaders = false;
        double seconds = Math.Max(report.Seconds, 1e-9);
        long bytes = result.Manifest.Shards.Sum(s => s.Bytes);
        table.AddRow("input", $"{Markup.Escape(options.Input)} ({report.InputKind})");
        table.AddRow("output", Markup.Escape(options.Output));
        table.AddRow("input files", report.InputFiles.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("written as is", report.Written.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("re-encoded", report.Reencoded.ToString("N0", CultureInfo.InvariantCulture));
        if (report.RestartInterval is { } mode)
        {
            table.AddRow("transcoded", $"{report.Transcoded.ToString("N0", CultureInfo.InvariantCulture)} (restart intervals: {mode})");
        }

        table.AddRow(report.Skipped > 0 ? "[yellow]skipped[/]" : "skipped", report.Skipped.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("records", $"{report.Records:N0} in {report.Shards} shard(s){(report.ShardsReused > 0 ? $", {report.ShardsReused} kept from an earlier run" : "")}");
        table.AddRow("classes", result.Manifest.Classes.Count.ToString(CultureInfo.InvariantCulture));
        table.AddRow("shard bytes", $"{bytes / 1e6:N1} MB");
        table.AddRow("time", $"{seconds:N2} s, {report.InputFiles / seconds:N0} files/s, {bytes / 1e6 / seconds:N1} MB/s");
        AnsiConsole.Write(table);

        var reasons = report.NotWritten.Where(f => f.Status != MakeRecordsJob.Transcoded).GroupBy(f => (f.Status, Reason: ReasonKind(f.Reason)))
                                  .OrderByDescending(g => g.Count()).ToList();
        if (reasons.Count > 0)
        {
            var why = new Table().Border(TableBorder.Rounded).AddColumn("status").AddColumn("reason").AddColumn(new TableColumn("files").RightAligned())
                                 .AddColumn("example");
            foreach (var group in reasons.Take(15))
            {
                why.AddRow(group.Key.Status, Markup.Escape(group.Key.Reason), group.Count().ToString(CultureInfo.InvariantCulture),
                           Markup.Escape(group.First().Path));
            }

            AnsiConsole.Write(why);
        }

        if (options.ReportPath is not null)
        {
            AnsiConsole.MarkupLineInterpolated($"report: {options.ReportPath}");
        }

        return options.Strict && report.Skipped > 0 ? 1 : 0;
    }

    /// <summary>Groups reasons that differ only in numbers ("too large: 9000x9000 ...").</summary>
    private static string ReasonKind(string? reason)
    {
        if (reason is null)
        {
            return "";
        }

        int colon = reason.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? reason[..colon] : reason;
    }

    internal static long ParseSize(string text)
    {
        string t = text.Trim().ToUpperInvariant();
        (string number, long unit) = t switch
        {
            _ when t.EndsWith("GB", StringComparison.Ordinal) => (t[..^2], 1L << 30),
            _ when t.EndsWith("MB", StringComparison.Ordinal) => (t[..^2], 1L << 20),
            _ when t.EndsWith("KB", StringComparison.Ordinal) => (t[..^2], 1L << 10),
            _ when t.EndsWith('B') => (t[..^1], 1L),
            _ => (t, 1L),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value <= 0 || value * unit > long.MaxValue / 2)
        {
            throw new ArgumentException($"--shard-size: cannot read \"{text}\" (use e.g. 128MB or 1GB)");
        }

        return (long)(value * unit);
    }
}
