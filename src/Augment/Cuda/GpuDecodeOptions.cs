namespace Loader.Augment.Cuda;

/// <summary>How the GPU path decodes.</summary>
public sealed record GpuDecodeOptions
{
    /// <summary>Use the hardware JPEG engine (A100/H100/H200) for the images it supports. Off: hybrid for all.</summary>
    public bool UseHardwareDecoder { get; init; } = true;

    /// <summary>Decode only each training sample's crop window (nvJPEG region of interest). Off: decode whole images.</summary>
    public bool UseRegionOfInterest { get; init; } = true;

    /// <summary>CPU threads for the hybrid decoder's Huffman stage; 0 = half the cores, at most 8.</summary>
    public int HybridThreads { get; init; }

    internal int ResolvedHybridThreads => HybridThreads > 0 ? HybridThreads : Math.Clamp(Environment.ProcessorCount / 2, 1, 8);
}
