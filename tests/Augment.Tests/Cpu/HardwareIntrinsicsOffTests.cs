using System.Diagnostics;

namespace Loader.Augment.Tests.Cpu;

/// <summary>
/// Reruns the kernel tests (and the golden tests, which run every kernel end to end) in a child process with
/// hardware intrinsics switched off, so the fallbacks are checked too: DOTNET_EnableHWIntrinsic=0 takes every kernel
/// down its scalar loop; DOTNET_EnableAVX2=0 (which in .NET 10 also switches off FMA) leaves SSE: the horizontal pass
/// then takes its plain Vector128 path (the one ARM64 runs), the others their scalar loops. The test assembly is an xunit v3 executable.
/// </summary>
public sealed class HardwareIntrinsicsOffTests
{
    [Theory]
    [InlineData("DOTNET_EnableHWIntrinsic")]
    [InlineData("DOTNET_EnableAVX2")]
    public async Task KernelAndGoldenTests_PassWithIntrinsicsOff(string switchVariable)
    {
        if (Environment.GetEnvironmentVariable("LOADER_AUGMENT_TEST_CHILD") == "1")
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
        foreach (var argument in new[] { "exec", assembly, "-class", typeof(KernelTests).FullName!, "-class", typeof(CpuSampleDecoderGoldenTests).FullName!, "-class", typeof(ReferencePipelineTests).FullName! })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment[switchVariable] = "0";
        start.Environment["LOADER_AUGMENT_TEST_CHILD"] = "1";
        using var child = Process.Start(start)!;
        var stdout = child.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = child.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        await child.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;
        Assert.True(child.ExitCode == 0, $"Child run with {switchVariable}=0 failed ({child.ExitCode}):\n{output}");
        Assert.Contains("Failed: 0", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Total: 0,", output, StringComparison.Ordinal);
    }
}
