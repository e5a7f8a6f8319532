using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Loader.Tools.MakeRecords.Job;

namespace Loader.Tools.MakeRecordsBench;

/// <summary>
/// make-records throughput on a folder of JPEGs against the baseline that bounds it: a plain copy of the same files
/// (File.Copy, one after another), in the same run, alternating, several rounds; medians reported. Both read from the
/// page cache (a warm-up round reads every file first), so the ratio measures make-records' own cost: parsing
/// headers, building Examples, CRC-32C, SHA-256, index. Usage: make-records-bench [INPUT] [--rounds N] [--json FILE]
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        string input = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "/work/shared/data/imagenet-sample";
        int rounds = ArgValue(args, "--rounds") is { } r ? int.Parse(r, System.Globalization.CultureInfo.InvariantCulture) : 5;
        string? jsonPath = ArgValue(args, "--json");
        string scratch = Path.Combine(Path.GetTempPath(), "make-records-bench-" + Environment.ProcessId);
        string[] files = [.. Directory.EnumerateFiles(input).Order(StringComparer.Ordinal)];
        long bytes = files.Sum(f => new FileInfo(f).Length);
        try
        {
            // Warm-up: page cache, JIT, SkiaSharp's native library.
            Copy(files, Path.Combine(scratch, "warm-copy"));
            Make(input, Path.Combine(scratch, "warm-records"), threads: 1);

            var copy = new List<double>();
            var streamCopy = new List<double>();
            var make1 = new List<double>();
            var make2 = new List<double>();
            JobResult? last = null;
            for (int round = 0; round < rounds; round++)
            {
                copy.Add(Time(() => Copy(files, Path.Combine(scratch, $"copy{round}"))));
                streamCopy.Add(Time(() => StreamCopy(files, Path.Combine(scratch, $"stream-copy{round}"))));
                make1.Add(Time(() => last = Make(input, Path.Combine(scratch, $"records1-{round}"), threads: 1)));
                make2.Add(Time(() => Make(input, Path.Combine(scratch, $"records2-{round}"), threads: 2)));
                Directory.Delete(scratch, recursive: true);
                Directory.CreateDirectory(scratch);
            }

            double copyS = Median(copy), streamS = Median(streamCopy), make1S = Median(make1), make2S = Median(make2);
            var result = new BenchResult(
                input, files.Length, bytes, rounds, Environment.ProcessorCount,
                last!.Report.Written, last.Report.Reencoded, last.Report.Skipped,
                new Measurement("copy (File.Copy: copy_file_range, in the kernel, 1 thread)", copyS, files.Length / copyS, bytes / 1e6 / copyS, 1.0),
                new Measurement("copy through user space (read file, write file, 1 thread)", streamS, files.Length / streamS, bytes / 1e6 / streamS, RatioMedian(copy, streamCopy)),
                new Measurement("make-records --threads 1", make1S, files.Length / make1S, bytes / 1e6 / make1S, RatioMedian(copy, make1)),
                new Measurement("make-records --threads 2", make2S, files.Length / make2S, bytes / 1e6 / make2S, RatioMedian(copy, make2)));
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

    private static JobResult Make(string input, string output, int threads) =>
        new MakeRecordsJob(new MakeRecordsOptions(input, output) { Threads = threads, Seed = 1 }).Run();

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

/// <summary>Median seconds; SpeedVsCopy = median over rounds of (copy seconds / this seconds) in the same round.</summary>
internal sealed record Measurement(string Name, double Seconds, double FilesPerSecond, double MegabytesPerSecond, double SpeedVsCopy);

internal sealed record BenchResult(string Input, int Files, long Bytes, int Rounds, int ProcessorCount, long Written, long Reencoded,
                                   long Skipped, Measurement Copy, Measurement StreamCopy, Measurement MakeRecords1, Measurement MakeRecords2);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(BenchResult))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
