using System.Diagnostics;

namespace Loader.Trainer.Tests.Commands;

/// <summary>The real trainer executable (built beside the tests): its argument parsing and error wiring.</summary>
public sealed class ProgramTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trainer-program-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (int Code, string Out, string Error) Trainer(params string[] args)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "trainer.dll"));
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        string error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "trainer did not finish in 2 minutes");
        return (process.ExitCode, output.Result, error);
    }

    [Fact]
    public void ParseError_IsOneLineWithTheUsageExitCode()
    {
        (int code, _, string error) = Trainer("train", "--batch", "many");
        Assert.Equal(2, code);
        Assert.Equal("trainer: error: Cannot parse argument 'many' for option '--batch' as expected type 'System.Int32'.", error.Trim());
    }

    [Fact]
    public void Divergence_IsOneLineWithExitCode3_AndVerboseAddsTheStack()
    {
        string[] args = ["train", "--loader", "synthetic", "--arch", "resnet-tiny", "--classes", "4", "--image-size", "16", "--batch", "8",
                         "--synthetic-steps", "3", "--epochs", "1", "--device", "cpu", "--threads", "1", "--lr", "1e9",
                         "--output", Path.Combine(_directory, "run")];
        (int code, _, string error) = Trainer(args);
        Assert.Equal(3, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith("trainer: error: step ", error, StringComparison.Ordinal);

        (int verboseCode, _, string verboseError) = Trainer([.. args, "--verbose"]);
        Assert.Equal(3, verboseCode);
        Assert.Contains("TrainingDivergedException", verboseError, StringComparison.Ordinal);
        Assert.Contains("   at ", verboseError, StringComparison.Ordinal);
    }
}
