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
        var input = new Option<string>("--input", "-i") { Description = "Input: class-subfolder tree, flat ImageNet-style folder, folder of TFRecord files, or the root of --file-list paths", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "Output folder for shards, indexes and manifest.json", Required = true };
        var fileList = new Option<string?>("--file-list") { Description = "DALI-style file list: 'relative/path label' per line (label 0-based), paths relative to --input" };
        var name = new Option<string?>("--name") { Description = "Shard name prefix (default: the input folder's name)" };
        var shards = new Option<int?>("--shards") { Description = "Number of shards (default: from --shard-size)" };
        var shardSize = new Option<string>("--shard-size") { Description = "Target shard size, e.g. 128MB or 1GB, when --shards is not given", DefaultValueFactory = _ => "128MB" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the record order (same input and seed: byte-identical output)", DefaultValueFactory = _ => 0UL };
        var threads = new Option<int>("--threads", "-j") { Description = "Worker threads (does not change the output)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var maxPixels = new Option<long>("--max-pixels") { Description = "Skip images whose header claims more pixels", DefaultValueFactory = _ => SanitizeOptions.DefaultMaxPixels };
        var maxSide = new Option<int?>("--max-side") { Description = "Downscale (re-encode) so the longer side is at most N pixels" };
        var quality = new Option<int>("--quality") { Description = "JPEG quality of re-encoded images", DefaultValueFactory = _ => 95 };
        var report = new Option<string?>("--report") { Description = "Write a JSON report: one entry per input file (status, reason, shard, record)" };
        var restart = new Option<string>("--restart-interval")
        {
            Description = "Rewrite every JPEG losslessly with restart markers so the loader decodes only the intervals a crop covers: "
                          + "auto (about 8 MCUs, dividing the row), rows (one per MCU row), N (at most N MCUs, dividing the row) or off",
            DefaultValueFactory = _ => "off",
        };
        var strict = new Option<bool>("--strict") { Description = "Exit non-zero when any input was skipped" };
        var applyExif = new Option<bool>("--apply-exif-orientation") { Description = "Re-encode JPEGs with an EXIF rotation upright (default: stored byte for byte, as TensorFlow, torchvision and PIL keep them)" };
        var allowEmpty = new Option<bool>("--allow-empty-classes") { Description = "Keep class folders without files as classes with no records (default: an error)" };
        var allowPartial = new Option<bool>("--allow-partial") { Description = "TFRecord input: take the files there even when the set cannot be shown complete (no manifest)" };

        var command = new RootCommand("Turns an image folder, a file list or TFRecord files into shuffled, sanitized, indexed TFRecord shards.\n"
                                      + "Subcommands: verify DIR, inspect DIR, index DIR, demo OUT.")
        {
            input, output, fileList, name, shards, shardSize, seed, threads, maxPixels, maxSide, quality, restart, report, strict, applyExif,
            allowEmpty, allowPartial,
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
