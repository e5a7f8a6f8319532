using System.Diagnostics;
using System.Text.Json.Serialization;
using System.Text.Json;
using Loader.Augment.Jpeg;
using Loader.Tools.Benchmarks;
using Loader.Tools.MakeRecords.Sanitizing;
using Loader.Tools.MakeRecords.Job;

namespace Loader.Tools.MakeRecordsBench;

/// <summary>
/// make-records throughput on a folder of JPEGs against two baselines, measured in the same run, alternating, several
/// rounds; medians reported. The plain copy is File.Copy of each file (copy_file_range: the bytes never leave the
/// kernel), the floor no user-space tool reaches; the user-space copy reads each file into memory and writes it out,
/// the least any program that looks at the bytes must do. All read from the page cache (a warm-up round reads every
/// file first), so the ratios measure make-records' own cost: parsing headers, framing Examples, CRC-32C, SHA-256 of
/// the shard, index. Ratios are speeds (baseline seconds / measured seconds, median over rounds); above 1 is faster.
/// make-records --threads 1 does everything on one thread; with 2 on one shard, a worker reads, serializes and frames
/// records while the calling thread writes them (one gather write per chunk, no copy) and hashes the shard (SHA-256).
/// make-records --threads 1 --restart-interval auto is timed in the same rounds: restartAutoTimeVsPassthrough is its
/// seconds over the passthrough run's (paired per round), and the shard bytes of the two are compared.
/// Usage: make-records-bench [INPUT] [--rounds N] [--json FILE]
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        string input = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : SharedSample.DefaultDirectory();
        int rounds = ArgValue(args, "--rounds") is { } r ? int.Parse(r, System.Globalization.CultureInfo.InvariantCulture) : 5;
        string? jsonPath = ArgValue(args, "--json");
        string scratch = Path.Combine(Path.GetTempPath(), "make-records-bench-" + Environment.ProcessId);
        string[] files = [.. Directory.EnumerateFiles(input).Order(StringComparer.Ordinal)];
        long bytes = files.Sum(f => new FileInfo(f).Length);
        try
        {
            // Warm-up: page cache, JIT (both thread counts, twice, so the timed rounds run optimized code).
            Copy(files, Path.Combine(scratch, "warm-copy"));
            StreamCopy(files, Path.Combine(scratch, "warm-stream-copy"));
            for (int i = 0; i < 2; i++)
            {
                Make(input, Path.Combine(scratch, $"warm-records1-{i}"), threads: 1);
                Make(input, Path.Combine(scratch, $"warm-records2-{i}"), threads: 2);
                Make(input, Path.Combine(scratch, $"warm-records1-restart-{i}"), threads: 1, RestartMode.Auto);
            }

            Directory.Delete(scratch, recursive: true);
            Directory.CreateDirectory(scratch);

            var copy = new List<double>();
            var streamCopy = new List<double>();
            var make1 = new List<double>();
            var make2 = new List<double>();
            var make1Restart = new List<double>();
            JobResult? last = null;
            JobResult? lastRestart = null;
            for (int round = 0; round < rounds; round++)
            {
                // The kernel writes one step's output back during the next steps; rotating the order each round spreads
                // that cost over all four instead of always charging the same one.
                Action[] steps =
                [
                    () => copy.Add(Time(() => Copy(files, Path.Combine(scratch, $"copy{round}")))),
                    () => streamCopy.Add(Time(() => StreamCopy(files, Path.Combine(scratch, $"stream-copy{round}")))),
                    () => make1.Add(Time(() => last = Make(input, Path.Combine(scratch, $"records1-{round}"), threads: 1))),
                    () => make2.Add(Time(() => Make(input, Path.Combine(scratch, $"records2-{round}"), threads: 2))),
                    () => make1Restart.Add(Time(() => lastRestart = Make(input, Path.Combine(scratch, $"records1-restart-{round}"), threads: 1, RestartMode.Auto))),
                ];
                for (int step = 0; step < steps.Length; step++)
                {
                    steps[(round + step) % steps.Length]();
                }

                Directory.Delete(scratch, recursive: true);
                Directory.CreateDirectory(scratch);
            }

            Measurement Measure(string name, List<double> seconds)
            {
                double median = Median(seconds);
                return new Measurement(name, median, files.Length / median, bytes / 1e6 / median, RatioMedian(copy, seconds),
                                       RatioMedian(streamCopy, seconds));
            }

            var result = new BenchResult(
                input, files.Length, bytes, rounds, Environment.ProcessorCount,
                last!.Report.Written, last.Report.Reencoded, last.Report.Skipped,
                Measure("plain copy (File.Copy per file: copy_file_range, bytes stay in the kernel; 1 thread)", copy),
                Measure("user-space copy (read each file into memory, write it out; 1 thread)", streamCopy),
                Measure("make-records --threads 1 (one shard)", make1),
                Measure("make-records --threads 2 (one shard: a worker reads and frames records while this thread writes and hashes)", make2),
                Measure("make-records --threads 1 --restart-interval auto (one shard: every JPEG transcoded losslessly)", make1Restart),
                lastRestart!.Report.Transcoded,
                last.Manifest.Shards.Sum(s => s.Bytes),
                lastRestart.Manifest.Shards.Sum(s => s.Bytes),
                Math.Round((double)lastRestart.Manifest.Shards.Sum(s => s.Bytes) / last.Manifest.Shards.Sum(s => s.Bytes), 4),
                Math.Round(RatioMedian(make1Restart, make1), 3),
                Math.Round((Median(make1Restart) - Median(make1)) * 1e3 / files.Length, 3));
            string json = JsonSerializer.Serialize(result, BenchJsonContext.Default.BenchResult);
            Console.WriteLine(json);
            if (jsonPath is not null)
            {
                File.WriteAllText(jsonPath, json + "\n");
            }

            return 0;
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }

    private static void Copy(string[] files, string output)
    {
        Directory.CreateDirectory(output);
        foreach (string file in files)
        {
            File.Copy(file, Path.Combine(output, Path.GetFileName(file)));
        }
    }

    /// <summary>The least a program that looks at the bytes must do: read each file into memory, write it out.</summary>
    private static void StreamCopy(string[] files, string output)
    {
        Directory.CreateDirectory(output);
        byte[] buffer = new byte[1 << 20];
        foreach (string file in files)
        {
            using var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            using var target = new FileStream(Path.Combine(output, Path.GetFileName(file)), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
            int n;
            while ((n = source.Read(buffer)) > 0)
            {
                target.Write(buffer, 0, n);
            }
        }
    }

    private static JobResult Make(string input, string output, int threads, RestartMode? restart = null) =>
        new MakeRecordsJob(new MakeRecordsOptions(input, output)
        {
            Threads = threads,
            Seed = 1,
            Sanitize = new SanitizeOptions { Restart = restart ?? RestartMode.Off },
        }).Run();

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted[sorted.Length / 2];
    }

    /// <summary>Paired per round, so load that drifts during the run hits both sides of each ratio alike.</summary>
    private static double RatioMedian(List<double> baseline, List<double> measured) =>
        Median([.. baseline.Zip(measured, (b, m) => b / m)]);

    private static string? ArgValue(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

/// <summary>Median seconds; each ratio = median over rounds of (baseline seconds / this seconds) in the same round, so
/// above 1 is faster than the baseline.</summary>
internal sealed record Measurement(string Name, double Seconds, double FilesPerSecond, double MegabytesPerSecond,
                                   double SpeedVsPlainCopy, double SpeedVsUserSpaceCopy);

internal sealed record BenchResult(string Input, int Files, long Bytes, int Rounds, int ProcessorCount, long Written, long Reencoded,
                                   long Skipped, Measurement PlainCopy, Measurement UserSpaceCopy, Measurement MakeRecords1,
                                   Measurement MakeRecords2, Measurement MakeRecords1RestartAuto, long Transcoded,
                                   long PassthroughShardBytes, long TranscodedShardBytes, double TranscodedVsPassthroughBytes,
                                   double RestartAutoTimeVsPassthrough, double RestartAutoExtraMillisecondsPerImage);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(BenchResult))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
