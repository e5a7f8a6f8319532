namespace Loader.Augment.Cuda;

/// <summary>How the GPU path decodes.</summary>
public sealed record GpuDecodeOptions
{
    /// <summary>Use the hardware JPEG engine (A100/H100/H200) for the images it supports. Off: hybrid for all.</summary>
    public bool UseHardwareDecoder { get; init; } = true;

    /// <summary>Decode only each training sample's crop window (nvJPEG region of interest). Off: decode whole images.</summary>
    public bool UseRegionOfInterest { get; init; } = true;

    /// <summary>
    /// Give nvJPEG, for a region of a JPEG with usable restart intervals (make-records <c>--restart-interval</c>), only
    /// the sub-JPEG of the intervals that cover it, so that its Huffman work is about the crop's share of the image.
    /// Off: the whole JPEG with the region of interest. This is nvJPEG's input only: the CPU fallback (samples nvJPEG
    /// rejects) splices as the CPU path always does. The splice keeps the one-pixel margin around the region that
    /// libjpeg-turbo's chroma upsampling needs for pixels identical to the whole JPEG's; whether nvJPEG's upsampling
    /// gives identical pixels at the sub-image's edges too is for the device script to check (not yet run on a GPU).
    /// </summary>
    public bool SpliceRestartIntervals { get; init; } = true;

    /// <summary>CPU threads for the hybrid decoder's Huffman stage; 0 = half the cores, at most 8.</summary>
    public int HybridThreads { get; init; }

    internal int ResolvedHybridThreads => HybridThreads > 0 ? HybridThreads : Math.Clamp(Environment.ProcessorCount / 2, 1, 8);
}
