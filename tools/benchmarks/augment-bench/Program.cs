using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Loader.Tools.AugmentBench;
using Loader.Tools.Benchmarks;

// augment-bench [throughput] [--data DIR] [--seconds S] [--rounds N] [--json FILE] [--restart-interval auto|rows|N] [--pass NAME]
// augment-bench kernels [BenchmarkDotNet arguments]
if (args.Length > 0 && args[0] == "kernels")
{
    // In process: the bench is built into an artifacts folder that BenchmarkDotNet's project-regenerating toolchain cannot find.
    var config = DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
    BenchmarkSwitcher.FromAssembly(typeof(KernelBenchmarks).Assembly).Run(args[1..], config);
    return 0;
}

var dataDir = SharedSample.DefaultDirectory();
var seconds = 3.0;
var rounds = 3;
string? json = null;
string? pass = null;
var restart = Loader.Augment.Jpeg.RestartMode.Auto;
for (var i = args.Length > 0 && args[0] == "throughput" ? 1 : 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--data":
            dataDir = args[++i];
            break;
        case "--seconds":
            seconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--rounds":
            rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--json":
            json = args[++i];
            break;
        case "--pass":
            pass = args[++i];
            break;
        case "--restart-interval":
            restart = Loader.Augment.Jpeg.RestartMode.Parse(args[++i]);
            break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}; usage: augment-bench [throughput] [--data DIR] [--seconds S] [--rounds N] [--json FILE] [--restart-interval auto|rows|N] [--pass NAME] | kernels [BenchmarkDotNet args]");
            return 2;
    }
}

// One core: the figure is per worker thread; pinning keeps the scheduler from spreading it.
if (OperatingSystem.IsLinux())
{
    System.Diagnostics.Process.GetCurrentProcess().ProcessorAffinity = 1;
}

if (restart.IsOff)
{
    Console.Error.WriteLine("--restart-interval off: nothing to compare (use auto, rows or N)");
    return 2;
}

return ThroughputBenchmark.Run(dataDir, seconds, rounds, json, restart, pass);
