namespace Loader.Augment.Cuda;

/// <summary>Which decoder handled a sample.</summary>
public enum DecodeRoute
{
    /// <summary>Not decoded (yet).</summary>
    None,

    /// <summary>The GPU's hardware JPEG engine, batched (<c>nvjpegDecodeBatchedEx</c>).</summary>
    Hardware,

    /// <summary>nvJPEG's hybrid decoder: Huffman on a CPU worker thread, the rest on the GPU.</summary>
    Hybrid,

    /// <summary>nvJPEG rejected the image; the CPU path (libjpeg-turbo) produced the finished sample.</summary>
    CpuFallback,
}

/// <summary>Where one sample's decoded pixels are: interleaved RGB at <see cref="Pixels"/> on the device, covering <see cref="Region"/> of the image.</summary>
internal record struct DecodedRegion(DecodeRoute Route, nint Pixels, int Pitch, CropWindow Region, int ImageWidth, int ImageHeight);
