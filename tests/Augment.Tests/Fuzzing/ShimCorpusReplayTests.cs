using System.Diagnostics;

namespace Loader.Augment.Tests.Fuzzing;

/// <summary>
/// The JPEG shim's fuzz target (tools/fuzz/native/jpeg_shim_fuzz.c), built here with AddressSanitizer and UBSan by the
/// machine's C compiler, replays the committed corpus (Fuzzing/corpus/shim: what libFuzzer kept, and every finding) and
/// the seeds the target writes from the fixtures (each transcoded with restart intervals of 1, 2, 4 and 8 MCUs, four
/// regions each, and each as it is, for the target to transcode). Every input runs the target's checks: memory
/// errors, undefined behaviour, leaks, return codes, the transcode's losslessness, the fast entropy decoders against
/// libjpeg's own decoder on the same bytes, pixel for pixel, and (where its parameters ask) the region against the
/// full-width decode. The fuzzing itself
/// (libFuzzer) is tools/fuzz/native/run.sh; this keeps its findings fixed. CC names the compiler (default cc).
/// </summary>
public sealed class ShimCorpusReplayTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fuzzing");

    [Fact]
    public void CommittedCorpusAndSeeds_UnderTheSanitizers_HaveNoFinding()
    {
        var work = Directory.CreateTempSubdirectory("shim-fuzz-").FullName;
        try
        {
            var replay = Path.Combine(work, "jpeg_shim_replay");
            var compiler = Environment.GetEnvironmentVariable("CC") is { Length: > 0 } cc ? cc : "cc";
            Run(compiler, ["-g", "-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-DLJ_FUZZ_REPLAY",
                Path.Combine(Folder, "jpeg_shim_fuzz.c"), Path.Combine(Folder, "jpeg_shim.c"), "-ljpeg", "-o", replay]);

            var seeds = Directory.CreateDirectory(Path.Combine(work, "seeds")).FullName;
            var fixtures = Directory.GetFiles(Path.Combine(Fixture.Directory, "images")).Order(StringComparer.Ordinal);
            Run(replay, ["--seeds", seeds, .. fixtures]);

            var corpus = Directory.GetFiles(Path.Combine(Folder, "corpus", "shim")).Order(StringComparer.Ordinal).ToArray();
            Assert.NotEmpty(corpus);
            var inputs = Directory.GetFiles(seeds).Order(StringComparer.Ordinal).Concat(corpus).ToArray();
            Assert.True(inputs.Length > corpus.Length + 200, $"the target wrote {inputs.Length - corpus.Length} seeds");

            var output = Run(replay, inputs);
            Assert.Contains($"{inputs.Length} inputs, no finding", output, StringComparison.Ordinal);
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary folder must not hide the assertion that failed.
            }
        }
    }

    /// <summary>Runs a program to its end; fails the test with its output unless it exits with 0 within 3 minutes.</summary>
    private static string Run(string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        // Both pipes are drained while the clock runs: a child that hangs (or fills one pipe) cannot hang the test.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{Path.GetFileName(program)} ran over 3 minutes");
        }

        process.WaitForExit(); // the pipes' last bytes
        Assert.True(process.ExitCode == 0, $"{Path.GetFileName(program)} exited with {process.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }
}
