namespace Loader.Augment;

/// <summary>Memory layout of one sample: planar channels (CHW, for an NCHW batch) or interleaved (HWC, for NHWC).</summary>
public enum PixelLayout
{
    Nchw,
    Nhwc,
}
