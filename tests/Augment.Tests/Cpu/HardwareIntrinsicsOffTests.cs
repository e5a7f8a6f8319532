using System.Diagnostics;

namespace Loader.Augment.Tests.Cpu;

/// <summary>
/// Reruns the kernel tests (and the golden tests, which run every kernel end to end) in a child process with
/// DOTNET_EnableHWIntrinsic=0, so the scalar fallbacks are checked too. The test assembly is an xunit v3 executable.
/// </summary>
public sealed class HardwareIntrinsicsOffTests
{
    [Fact]
    public async Task KernelAndGoldenTests_PassWithHardwareIntrinsicsOff()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") == "0")
        {
            return; // we are the child
        }

        var assembly = typeof(HardwareIntrinsicsOffTests).Assembly.Location;
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h
            : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "exec", assembly, "-class", typeof(KernelTests).FullName!, "-class", typeof(CpuSampleDecoderGoldenTests).FullName! })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_EnableHWIntrinsic"] = "0";
        using var child = Process.Start(start)!;
        var stdout = child.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = child.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        await child.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;
        Assert.True(child.ExitCode == 0, $"Child run with DOTNET_EnableHWIntrinsic=0 failed ({child.ExitCode}):\n{output}");
        Assert.Contains("Failed: 0", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Total: 0,", output, StringComparison.Ordinal);
    }
}
