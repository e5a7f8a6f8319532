using System.Globalization;

namespace Loader.Pipeline;

/// <summary>
/// Where a loader's batches go, as PyTorch names devices: <c>cpu</c> (host memory: <see cref="HostBatch"/>) or
/// <c>cuda:N</c> (GPU memory: <see cref="DeviceBatch"/>, decoded by nvJPEG and augmented by CUDA kernels on GPU N).
/// </summary>
public readonly record struct LoaderDevice
{
    private LoaderDevice(bool isCuda, int index)
    {
        IsCuda = isCuda;
        Index = index;
    }

    /// <summary>Host memory; decoded and augmented on the CPU.</summary>
    public static LoaderDevice Cpu => default;

    public bool IsCuda { get; }

    /// <summary>The CUDA device ordinal (0 for the CPU).</summary>
    public int Index { get; }

    /// <summary>GPU <paramref name="index"/> (CUDA ordinal).</summary>
    public static LoaderDevice Cuda(int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return new LoaderDevice(true, index);
    }

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public static LoaderDevice Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim().ToLowerInvariant();
        if (t == "cpu")
        {
            return Cpu;
        }

        if (t == "cuda")
        {
            return Cuda();
        }

        if (t.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(t.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
        {
            return Cuda(index);
        }

        throw new FormatException($"'{text}' is not a loader device: use cpu, cuda or cuda:N.");
    }

    public override string ToString() => IsCuda ? string.Create(CultureInfo.InvariantCulture, $"cuda:{Index}") : "cpu";
}
