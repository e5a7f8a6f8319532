using System.CommandLine;
using Loader.Records.Jpeg;
using Loader.Records.Reading;
using Spectre.Console;

namespace Loader.Tools.MakeRecords.Commands;

/// <summary>
/// <c>verify DIR</c>: every CRC, the indexes against the shards, the manifest's fields, sizes and hashes, labels and
/// JPEG headers; one line per problem, never a crash. Exit codes: 0 the set is sound (with --allow-partial: the shards
/// that are there are sound; what is missing is printed as PARTIAL lines), 1 at least one problem, 2 it could not run
/// (no such folder, bad arguments).
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("DIR") { Description = "Record directory (manifest.json + shards), or a folder of TFRecord files" };
        var allowPartial = new Option<bool>("--allow-partial")
        {
            Description = "Check the shards that are there: a missing manifest or shard, or an unlisted TFRecord file, is a PARTIAL warning, not a problem (default: off, they are problems)",
        };
        var maxPixels = new Option<long>("--max-pixels") { Description = "A record whose JPEG header claims more pixels (width x height) is a problem", DefaultValueFactory = _ => JpegHeader.DefaultMaxPixels };
        var noSha256 = new Option<bool>("--no-sha256")
        {
            Description = "Skip the shards' SHA-256 against the manifest, verify's largest single cost; every record's CRC-32Cs, framing, Example, label and header and both indexes are still checked (default: off, the SHA-256 is checked)",
        };
        var threads = new Option<int>("--threads", "-j") { Description = "Shards checked at once, at least 1 (default: one per core)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("verify", """
            Check a record directory end to end: every record's framing and both CRC-32Cs, its tf.train.Example, label and JPEG header; each index (ours and DALI's) against its shard; the manifest's fields, every shard's size and SHA-256, record and class counts. One line per problem, never a crash. Each shard is read once, front to back.
            Exit codes: 0 the set is sound (with --allow-partial: what is there is sound), 1 at least one problem, 2 it could not run (no such folder, bad arguments).
            """)
        {
            directory, allowPartial, maxPixels, noSha256, threads,
        };
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(directory)!;
            if (!Directory.Exists(dir))
            {
                ErrorOutput.Line($"folder not found: {dir}");
                return 2;
            }

            if (parse.GetValue(threads) < 1 || parse.GetValue(maxPixels) < 1)
            {
                ErrorOutput.Line("--threads and --max-pixels must be at least 1");
                return 2;
            }

            bool sha256 = !parse.GetValue(noSha256);
            var verifier = new DatasetVerifier(new VerifyOptions(parse.GetValue(maxPixels), parse.GetValue(allowPartial), parse.GetValue(threads), sha256));
            VerificationReport report = ConsoleProgress.Run("verify", () => verifier.TotalBytes, () => verifier.BytesDone, _ => verifier.Run(dir));
            foreach (VerificationProblem problem in report.Problems)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]BAD[/] {problem.ToString()}");
            }

            foreach (VerificationProblem warning in report.Partial)
            {
                AnsiConsole.MarkupLineInterpolated($"[yellow]PARTIAL[/] {warning.ToString()}");
            }

            string manifestPath = Path.Combine(dir, Loader.Records.Index.ShardNaming.ManifestFileName);
            if (File.Exists(manifestPath) && TryReadRestartMode(manifestPath) is { } restart)
            {
                AnsiConsole.MarkupLineInterpolated($"restart intervals: {restart}");
            }

            if (!sha256)
            {
                AnsiConsole.MarkupLine("SHA-256: not checked (--no-sha256)");
            }

            string verdict = report.Ok ? (report.Partial.Count > 0 ? "[yellow]OK, PARTIAL[/]" : "[green]OK[/]") : $"[red]{report.Problems.Count} problem(s)[/]";
            AnsiConsole.MarkupLine($"{verdict}: {report.Shards} shard(s), {report.Records:N0} records, {report.Bytes / 1e6:N1} MB checked");
            return report.Ok ? 0 : 1;
        });
        return command;
    }

    /// <summary>The manifest's --restart-interval line, or null when it cannot be read (verify reports that itself).</summary>
    private static string? TryReadRestartMode(string manifestPath)
    {
        try
        {
            var source = Loader.Records.Index.DatasetManifest.Read(manifestPath).Source;
            return source is null ? null
                : source.RestartInterval is { } mode ? $"{mode} ({source.Transcoded:N0} transcoded)" : "off";
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
