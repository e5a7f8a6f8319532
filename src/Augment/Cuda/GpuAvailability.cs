using Loader.Augment.Cuda.Interop;

namespace Loader.Augment.Cuda;

/// <summary>What the GPU path found on this machine: the device and where each library was loaded from, or what is missing.</summary>
public sealed record GpuProbeResult(
    bool IsAvailable,
    IReadOnlyList<string> Problems,
    string? DeviceName,
    string? Architecture,
    int DeviceCount,
    int DriverVersion,
    string? DriverLibrary,
    string? NvrtcLibrary,
    string? NvrtcVersion,
    string? NvJpegLibrary,
    string? NvJpegVersion)
{
    /// <summary>One line for logs and error messages.</summary>
    public string Summary => IsAvailable
        ? $"GPU {DeviceName} ({Architecture}), driver CUDA {DriverVersion / 1000}.{DriverVersion % 1000 / 10}, NVRTC {NvrtcVersion} ({NvrtcLibrary}), nvJPEG {NvJpegVersion} ({NvJpegLibrary})"
        : "GPU path unavailable: " + string.Join("; ", Problems);
}

/// <summary>The GPU path cannot run here; the message says exactly what is missing.</summary>
public sealed class GpuUnavailableException : Exception
{
    public GpuUnavailableException()
    {
    }

    public GpuUnavailableException(string message) : base(message)
    {
    }

    public GpuUnavailableException(string message, Exception innerException) : base(message, innerException)
    {
    }
}

/// <summary>
/// Checks, cheaply and without throwing, everything the GPU path needs: the driver library, a device, NVRTC and
/// nvJPEG. <c>--backend gpu</c> calls <see cref="EnsureAvailable"/> first, so it fails at once with a message such
/// as "no NVIDIA driver: libcuda.so.1 not found" instead of somewhere deep in a batch.
/// </summary>
public static class GpuAvailability
{
    private static readonly Lazy<GpuProbeResult> s_probe = new(ProbeNow);

    /// <summary>The probe's result (computed once per process).</summary>
    public static GpuProbeResult Probe() => s_probe.Value;

    public static void EnsureAvailable()
    {
        var result = Probe();
        if (!result.IsAvailable)
        {
            throw new GpuUnavailableException(result.Summary);
        }
    }

    private static GpuProbeResult ProbeNow()
    {
        var problems = new List<string>();
        int driverVersion = 0, deviceCount = 0;
        string? name = null, architecture = null, nvrtcVersion = null, nvjpegVersion = null;

        if (Try(() => CudaDriver.cuDriverGetVersion(out driverVersion), "no NVIDIA driver: libcuda.so.1", CudaLibraryResolver.Driver, problems) is int versionStatus
            && versionStatus == CudaDriver.CUDA_SUCCESS)
        {
            var init = CudaDriver.cuInit(0);
            if (init != CudaDriver.CUDA_SUCCESS)
            {
                problems.Add($"no usable CUDA device: cuInit failed: {CudaDriver.Describe(init)}");
            }
            else if (CudaDriver.cuDeviceGetCount(out deviceCount) != CudaDriver.CUDA_SUCCESS || deviceCount == 0)
            {
                problems.Add("no CUDA device: the driver is installed but reports 0 devices");
            }
            else if (CudaDriver.cuDeviceGet(out var device, 0) == CudaDriver.CUDA_SUCCESS)
            {
                name = CudaDevice.DeviceName(device);
                _ = CudaDriver.cuDeviceGetAttribute(out var major, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
                _ = CudaDriver.cuDeviceGetAttribute(out var minor, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
                architecture = $"sm_{major}{minor}";
            }
        }

        if (Try(() => NvrtcVersion(ref nvrtcVersion), "no NVRTC (CUDA 12 or 13 runtime compiler): libnvrtc", CudaLibraryResolver.Nvrtc, problems)
            is int nvrtcStatus && nvrtcStatus != 0)
        {
            problems.Add($"NVRTC does not answer: {Nvrtc.Describe(nvrtcStatus)}");
        }

        if (Try(() => NvJpegVersion(ref nvjpegVersion), "no nvJPEG (CUDA 12 or 13): libnvjpeg", CudaLibraryResolver.NvJpeg, problems) is int nvjpegStatus && nvjpegStatus != 0)
        {
            problems.Add($"nvJPEG does not answer: {NvJpeg.Describe(nvjpegStatus)}");
        }

        return new GpuProbeResult(problems.Count == 0, problems, name, architecture, deviceCount, driverVersion,
            CudaLibraryResolver.LoadedFrom(CudaLibraryResolver.Driver), CudaLibraryResolver.LoadedFrom(CudaLibraryResolver.Nvrtc), nvrtcVersion,
            CudaLibraryResolver.LoadedFrom(CudaLibraryResolver.NvJpeg), nvjpegVersion);
    }

    private static int NvrtcVersion(ref string? version)
    {
        var status = Nvrtc.nvrtcVersion(out var major, out var minor);
        if (status == 0)
        {
            version = $"{major}.{minor}";
        }

        return status;
    }

    private static int NvJpegVersion(ref string? version)
    {
        // libraryPropertyType: MAJOR_VERSION = 0, MINOR_VERSION = 1, PATCH_LEVEL = 2.
        var status = NvJpeg.nvjpegGetProperty(0, out var major);
        if (status == 0)
        {
            status = NvJpeg.nvjpegGetProperty(1, out var minor);
            version = $"{major}.{minor}";
        }

        return status;
    }

    // Calls into a library that may be missing; records "what is missing" instead of throwing.
    private static int? Try(Func<int> call, string missing, string library, List<string> problems)
    {
        try
        {
            return call();
        }
        catch (DllNotFoundException)
        {
            problems.Add($"{missing} not found ({CudaLibraryResolver.FailureReason(library) ?? "not on the loader path"})");
        }
        catch (EntryPointNotFoundException e)
        {
            problems.Add($"{missing} is too old: {e.Message}");
        }

        return null;
    }
}
