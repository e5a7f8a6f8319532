namespace Loader.Augment;

/// <summary>Element type of a finished sample.</summary>
public enum PixelType
{
    Float32,
    Float16,
    BFloat16,

    /// <summary>Raw 0..255 values, not normalized (normalization then happens on the GPU); HWC only.</summary>
    UInt8,
}
