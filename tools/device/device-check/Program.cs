using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loader.Augment.Cuda;

// device-check: the device checks of issue 6, printed as one JSON document.
//   device-check probe                                   what the GPU path finds here (exit 3 when unavailable)
//   device-check all --images DIR [--fixtures DIR] [--seconds S] [--batch N] [--out FILE]
// --images: the timed set (ImageNet JPEGs); --fixtures: special cases added to the correctness checks only.
// Each check records its own error instead of stopping the others: one device call must bring back everything.

var command = args.Length > 0 ? args[0] : "probe";
var images = Option("--images", "");
var fixtures = Option("--fixtures", "");
var seconds = double.Parse(Option("--seconds", "5"), System.Globalization.CultureInfo.InvariantCulture);
var batchSize = int.Parse(Option("--batch", "256"), System.Globalization.CultureInfo.InvariantCulture);
var outPath = Option("--out", "");

var report = new JsonObject
{
    ["date_utc"] = DateTime.UtcNow.ToString("u", System.Globalization.CultureInfo.InvariantCulture),
    ["machine"] = Environment.MachineName,
    ["cpu_cores"] = Environment.ProcessorCount,
    ["probe"] = ProbeJson(GpuAvailability.Probe()),
};

if (command == "probe")
{
    Write(report);
    return GpuAvailability.Probe().IsAvailable ? 0 : 3;
}

if (command != "all" || !Directory.Exists(images))
{
    Console.Error.WriteLine("usage: device-check probe | device-check all --images DIR [--fixtures DIR] [--seconds S] [--batch N] [--out FILE]");
    return 2;
}

if (!GpuAvailability.Probe().IsAvailable)
{
    report["error"] = GpuAvailability.Probe().Summary;
    Write(report);
    return 3;
}

var timedFiles = Jpegs(images);
var timed = timedFiles.Select(f => (ReadOnlyMemory<byte>)File.ReadAllBytes(f)).ToArray();
var files = timedFiles.Concat(fixtures.Length > 0 ? Jpegs(fixtures) : []).ToArray();
var jpegs = files.Select(f => (ReadOnlyMemory<byte>)File.ReadAllBytes(f)).ToArray();
report["images"] = new JsonObject
{
    ["directory"] = images,
    ["timed"] = timedFiles.Length,
    ["timed_bytes"] = timed.Sum(j => (long)j.Length),
    ["fixtures"] = files.Length - timedFiles.Length,
};

using var device = CudaDevice.Open();
report["device"] = new JsonObject
{
    ["name"] = device.Name,
    ["architecture"] = device.Architecture,
    ["multiprocessors"] = device.MultiprocessorCount,
    ["memory_gib"] = Math.Round(device.TotalMemory / (1024.0 * 1024 * 1024), 1),
};

Run("kernel_compile", () =>
{
    var watch = Stopwatch.StartNew();
    var cubin = KernelCompiler.Compile(AugmentKernel.SourceFile, KernelCompiler.ReadEmbeddedSource(AugmentKernel.SourceFile), device.Architecture);
    return new JsonObject { ["milliseconds"] = watch.ElapsedMilliseconds, ["cubin_bytes"] = cubin.Length };
});
Run("decode_psnr", () => DecodeChecks.FullAndRegion(device, files, jpegs));
Run("kernel_vs_cpu", () => KernelChecks.AgainstCpu(device, jpegs));
Run("end_to_end_vs_cpu", () => KernelChecks.EndToEnd(device, files, jpegs));
Run("throughput", () => Throughput.Measure(device, timed, batchSize, seconds));

Write(report);
return 0;

void Run(string name, Func<JsonNode> check)
{
    Console.Error.WriteLine($"device-check: {name}...");
    var watch = Stopwatch.StartNew();
    try
    {
        var result = check();
        result["seconds"] = Math.Round(watch.Elapsed.TotalSeconds, 2);
        report[name] = result;
    }
#pragma warning disable CA1031 // a failed check is recorded and the next one runs: one device call must bring back everything
    catch (Exception e)
#pragma warning restore CA1031
    {
        report[name] = new JsonObject { ["error"] = e.ToString() };
    }

    Console.Error.WriteLine($"device-check: {name} done in {watch.Elapsed.TotalSeconds:F1} s");
}

static string[] Jpegs(string directory) => [.. Directory.GetFiles(directory)
    .Where(f => f.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase))
    .Order(StringComparer.Ordinal)];

string Option(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

void Write(JsonObject json)
{
    var text = json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    Console.WriteLine(text);
    if (outPath.Length > 0)
    {
        File.WriteAllText(outPath, text);
    }
}

static JsonObject ProbeJson(GpuProbeResult p) => new()
{
    ["available"] = p.IsAvailable,
    ["summary"] = p.Summary,
    ["problems"] = new JsonArray([.. p.Problems.Select(x => (JsonNode?)x)]),
    ["device"] = p.DeviceName,
    ["architecture"] = p.Architecture,
    ["device_count"] = p.DeviceCount,
    ["driver_cuda_version"] = p.DriverVersion,
    ["libcuda"] = p.DriverLibrary,
    ["nvrtc"] = p.NvrtcLibrary,
    ["nvrtc_version"] = p.NvrtcVersion,
    ["nvjpeg"] = p.NvJpegLibrary,
    ["nvjpeg_version"] = p.NvJpegVersion,
};
