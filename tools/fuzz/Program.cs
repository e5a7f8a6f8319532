using System.Diagnostics;
using SharpFuzz;

namespace Loader.Tools.Fuzz;

/// <summary>
/// records-fuzz TARGET: one SharpFuzz harness under afl-fuzz (input on stdin, persistent mode).
/// records-fuzz seeds RECORD_DIR OUT_DIR: cuts a seed corpus, one folder per target, out of make-records output.
/// records-fuzz replay TARGET PATH...: runs files or folders of inputs through the same target without AFL and
/// prints one line per finding; exit 1 when there is any.
/// </summary>
internal static class Program
{
    private const string Usage = "usage: records-fuzz TARGET | records-fuzz replay TARGET PATH... | records-fuzz seeds RECORD_DIR OUT_DIR"
                                 + " (targets: framing, example, index, manifest, jpeg, sample)";

    public static int Main(string[] args)
    {
        if (args.Length == 1 && FuzzTargets.All.TryGetValue(args[0], out Action<byte[]>? target))
        {
            Fuzzer.Run(stream =>
            {
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                target(copy.ToArray());
            });
            return 0;
        }

        if (args.Length >= 3 && args[0] == "replay" && FuzzTargets.All.TryGetValue(args[1], out target))
        {
            return Replay(args[1], target, args[2..]);
        }

        if (args.Length == 3 && args[0] == "seeds")
        {
            int written = SeedCorpus.Write(args[1], args[2]);
            Console.WriteLine($"{written} seeds in {args[2]}");
            return 0;
        }

        Console.Error.WriteLine(Usage);
        return 2;
    }

    private static int Replay(string name, Action<byte[]> target, string[] paths)
    {
        int inputs = 0, findings = 0;
        foreach (string file in paths.SelectMany<string, string>(p => Directory.Exists(p)
                     ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                     : [p]).Where(f => Path.GetFileName(f) != "README.txt")) // AFL's note in crashes/ and hangs/
        {
            inputs++;
            var clock = Stopwatch.StartNew();
            try
            {
                target(File.ReadAllBytes(file));
            }
#pragma warning disable CA1031 // Replay reports every escaped exception: each one is a finding.
            catch (Exception e)
#pragma warning restore CA1031
            {
                findings++;
                Console.WriteLine($"{file}: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
                Console.Error.WriteLine(e);
                continue;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(1))
            {
                findings++;
                Console.WriteLine($"{file}: slow: {clock.Elapsed.TotalMilliseconds:F0} ms");
            }
        }

        Console.WriteLine($"{name}: {inputs} inputs, {findings} findings");
        return findings == 0 ? 0 : 1;
    }
}
