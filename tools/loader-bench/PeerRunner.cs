using System.Diagnostics;
using System.Globalization;

namespace Loader.Tools.Bench;

/// <summary>Runs one peer pipeline of tools/peers/torchvision_loader.py and reads its JSON line.</summary>
internal static class PeerRunner
{
    public const string SetupHint = "install the peers with: bash tools/peers/setup.sh (Debian: python3-torch python3-torchvision " +
                                    "python3-pil python3-numpy python3-opencv)";

    public static PeerResult Run(string python, string script, string pipeline, string imagesDirectory, int workers,
                                 int batchSize, int epochs, bool eval, int warmupEpochs = 1)
    {
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[]
                 {
                     script, "--pipeline", pipeline, "--data", imagesDirectory,
                     "--workers", workers.ToString(CultureInfo.InvariantCulture),
                     "--batch", batchSize.ToString(CultureInfo.InvariantCulture),
                     "--epochs", epochs.ToString(CultureInfo.InvariantCulture),
                     "--warmup-epochs", warmupEpochs.ToString(CultureInfo.InvariantCulture),
                 })
        {
            start.ArgumentList.Add(argument);
        }

        if (eval)
        {
            start.ArgumentList.Add("--eval");
        }

        string what = $"peer {pipeline} ({Path.GetFileName(script)})";
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{what}: could not start {python}");
        Task<string> errors = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            // The script's last line of stderr is Python's own one-line reason (the traceback's last line).
            string reason = errors.Result.Trim().Split('\n')[^1].Trim();
            throw new InvalidOperationException($"{what} exited with {process.ExitCode}: {reason} ({SetupHint})");
        }

        PeerResult result = PeerResult.Parse(output, what);
        if (result.Pipeline != pipeline)
        {
            throw new InvalidOperationException($"{what}: ran pipeline '{result.Pipeline}', not '{pipeline}' (an older script? pass --peer-script)");
        }

        return result;
    }

    /// <summary>tools/peers/torchvision_loader.py, looked for from the working directory upwards.</summary>
    public static string? FindScript()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tools", "peers", "torchvision_loader.py");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
