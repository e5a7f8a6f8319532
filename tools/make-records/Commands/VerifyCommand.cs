using System.CommandLine;
using Loader.Records.Reading;
using Spectre.Console;

namespace Loader.Tools.MakeRecords.Commands;

/// <summary><c>verify DIR</c>: every CRC, the indexes against the shards, the manifest's sizes and hashes; names each
/// bad shard and record; exit 1 on any problem.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("DIR") { Description = "Record directory (manifest.json + shards), or a folder of TFRecord files" };
        var command = new Command("verify", "Check every record's CRCs, the indexes and the manifest; exit 1 on any problem") { directory };
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(directory)!;
            if (!Directory.Exists(dir))
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] folder not found: {dir}");
                return 2;
            }

            VerificationReport report = ConsoleProgress.Run("verify", () => 0, () => 0, _ => DatasetVerifier.Verify(dir));
            foreach (VerificationProblem problem in report.Problems)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]BAD[/] {problem.ToString()}");
            }

            string manifestPath = Path.Combine(dir, Loader.Records.Index.ShardNaming.ManifestFileName);
            if (File.Exists(manifestPath) && TryReadRestartMode(manifestPath) is { } restart)
            {
                AnsiConsole.MarkupLineInterpolated($"restart intervals: {restart}");
            }

            string verdict = report.Ok ? "[green]OK[/]" : $"[red]{report.Problems.Count} problem(s)[/]";
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
