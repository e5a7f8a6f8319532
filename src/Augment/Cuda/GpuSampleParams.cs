using System.Runtime.InteropServices;

namespace Loader.Augment.Cuda;

/// <summary>
/// One sample's entry in the kernel's parameter array: where its decoded pixels are and which box of them becomes
/// the output. Mirrors <c>struct SampleParams</c> in Kernels/augment.cu byte for byte (48 bytes; tests check it).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GpuSampleParams
{
    public ulong Source;
    public int SourcePitch;
    public int SourceWidth;
    public int SourceHeight;
    public int Flip;
    public float BoxX;
    public float BoxY;
    public float BoxWidth;
    public float BoxHeight;
    public int Skip;
    public int Reserved;
}
