using System.Diagnostics;

namespace Loader.Tools.Bench.Tests;

/// <summary>Where the peers' scripts are, whether Debian's Python stack for them is installed, and a small image folder for them.</summary>
internal static class PeerSupport
{
    public const string Python = "/usr/bin/python3";

    public static string ScriptsDirectory { get; } = FindScripts();

    public static string LoaderScript => Path.Combine(ScriptsDirectory, "torchvision_loader.py");

    /// <summary>Null when the peers can run; otherwise why not (the reason a test skips with).</summary>
    public static string? WhyNotAvailable()
    {
        if (!File.Exists(Python))
        {
            return $"{Python} not found ({PeerRunner.SetupHint})";
        }

        (int code, string output) = RunPython("-c", "import torch, torchvision, PIL, numpy, cv2");
        return code == 0 ? null : $"{Python} cannot import the peers' modules ({PeerRunner.SetupHint}): {output.Trim().Split('\n')[^1]}";
    }

    public static (int ExitCode, string Output) RunPython(params string[] arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> errors = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + errors.Result);
    }

    /// <summary>JPEGs named as in a flat ImageNet folder (synset_name.JPEG), two classes.</summary>
    public static void WriteImages(string directory, IEnumerable<(int Width, int Height, bool Gray)> sizes)
    {
        Directory.CreateDirectory(directory);
        int i = 0;
        foreach (var (width, height, gray) in sizes)
        {
            File.WriteAllBytes(Path.Combine(directory, $"n0000000{i % 2}_image{i}.JPEG"), Records.Tests.TestImages.Jpeg(width, height, seed: i, gray: gray));
            i++;
        }
    }

    private static string FindScripts()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tools", "peers");
            if (File.Exists(Path.Combine(candidate, "torchvision_loader.py")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"tools/peers not found above {AppContext.BaseDirectory}");
    }
}
