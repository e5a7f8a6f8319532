using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Loader.Tools.Bench;

/// <summary>Runs our torchvision peer script (tools/peers/torchvision_loader.py) and reads its JSON line.</summary>
internal static class PeerRunner
{
    public static double Run(string python, string script, string imagesDirectory, int workers, int batchSize, int epochs,
                             bool eval)
    {
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[]
                 {
                     script, "--data", imagesDirectory, "--workers", workers.ToString(CultureInfo.InvariantCulture),
                     "--batch", batchSize.ToString(CultureInfo.InvariantCulture),
                     "--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--warmup-batches", "1",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        if (eval)
        {
            start.ArgumentList.Add("--eval");
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {python}");
        Task<string> errors = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{python} {script} exited with {process.ExitCode}: {errors.Result.Trim()}\n" +
                "(install the peer with: apt-get install -y --no-install-recommends python3-torch python3-torchvision python3-pil python3-numpy)");
        }

        string line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                            .Last(l => l.StartsWith('{'));
        using JsonDocument json = JsonDocument.Parse(line);
        return json.RootElement.GetProperty("images_per_s").GetDouble();
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
