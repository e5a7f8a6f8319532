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

    /// <summary>Every option of every command says what it does (a bare "[default: x]" does not), and the exit codes.</summary>
    [Theory]
    [InlineData("train")]
    [InlineData("eval")]
    [InlineData("export")]
    public void Help_EveryOption_HasADescription_AndTheExitCodesAreListed(string command)
    {
        (int code, string output, _) = Trainer(command, "--help");
        Assert.Equal(0, code);
        Assert.Contains("Exit codes: 0 done, 1 failed, 2 usage error, 3 training diverged, 130 interrupted", output, StringComparison.Ordinal);
        string[] options = [.. output.Split('\n').SkipWhile(l => !l.StartsWith("Options:", StringComparison.Ordinal)).Skip(1)
                                 .Where(l => l.StartsWith("  -", StringComparison.Ordinal))];
        Assert.NotEmpty(options);
        foreach (string line in options)
        {
            // "  --name <value>   Description [default: x]": the text after the option's own column.
            string description = System.Text.RegularExpressions.Regex.Replace(line.Trim(), @"^\S+( <[^>]+>)?(, \S+)*\s*", "");
            description = System.Text.RegularExpressions.Regex.Replace(description, @"\[default: [^\]]*\]", "").Trim();
            Assert.True(description.Length >= 10, $"trainer {command}: option without a description: {line.Trim()}");
        }
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
