namespace Loader.Augment.Cuda.Tests;

/// <summary>The CPU path's JPEG fixtures, copied next to the test assembly, and the GPU skip rule.</summary>
internal static class Fixture
{
    public static string ImageDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "Fixtures", "images");

    /// <summary>Every fixture JPEG; fails (never silently passes) when the fixtures were not copied.</summary>
    public static IReadOnlyList<string> Images()
    {
        var files = Directory.Exists(ImageDirectory)
            ? Directory.GetFiles(ImageDirectory).Where(f => f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToArray()
            : [];
        Assert.True(files.Length > 0, $"No fixture JPEGs in {ImageDirectory}");
        return files;
    }

    /// <summary>Skips the calling test, with the probe's exact reason, on a machine without a usable GPU.</summary>
    public static void RequireGpu()
    {
        var probe = GpuAvailability.Probe();
        if (!probe.IsAvailable)
        {
            Assert.Skip("needs a GPU (runs in tools/device/run-on-device.sh): " + probe.Summary);
        }
    }
}
