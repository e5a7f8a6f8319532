using System.Runtime.InteropServices;

namespace Loader.Augment.Cuda.Tests;

public sealed class GpuAvailabilityTests
{
    [Fact]
    public void Probe_WithoutTheDriver_SaysLibcudaIsMissing_AndOpenFailsWithThatMessage()
    {
        if (NativeLibrary.TryLoad("libcuda.so.1", out var handle))
        {
            NativeLibrary.Free(handle);
            Assert.Skip("this machine has an NVIDIA driver; see Probe_WithADriver_ReportsTheDevice");
        }

        var probe = GpuAvailability.Probe();
        Assert.False(probe.IsAvailable);
        Assert.Contains(probe.Problems, p => p.StartsWith("no NVIDIA driver: libcuda.so.1 not found", StringComparison.Ordinal));
        Assert.StartsWith("GPU path unavailable: no NVIDIA driver: libcuda.so.1 not found", probe.Summary);
        Assert.Null(probe.DeviceName);

        var e = Assert.Throws<GpuUnavailableException>(() => CudaDevice.Open());
        Assert.Equal(probe.Summary, e.Message);
    }

    [Fact]
    public void Probe_WithADriver_ReportsTheDevice()
    {
        Fixture.RequireGpu();
        var probe = GpuAvailability.Probe();
        Assert.True(probe.IsAvailable, probe.Summary);
        Assert.NotNull(probe.DeviceName);
        Assert.Matches(@"^sm_\d+$", probe.Architecture);
        Assert.NotNull(probe.NvJpegLibrary);
        Assert.NotNull(probe.NvrtcLibrary);
        using var device = CudaDevice.Open();
        Assert.Equal(probe.DeviceName, device.Name);
    }

    [Fact]
    public void Probe_IsComputedOnce() => Assert.Same(GpuAvailability.Probe(), GpuAvailability.Probe());
}
