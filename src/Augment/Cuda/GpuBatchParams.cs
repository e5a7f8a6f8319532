using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Loader.Augment.Cuda;

/// <summary>
/// The kernel's single argument (passed by value): the batch's output and what every sample shares. Mirrors
/// <c>struct BatchParams</c> in Kernels/augment.cu (72 bytes with its 8-byte alignment; tests check it).
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 72)]
internal struct GpuBatchParams
{
    public ulong Samples;
    public ulong Output;
    public long SampleStride;
    public int Count;
    public int OutWidth;
    public int OutHeight;
    public int PixelType;
    public int Layout;
    public Channels3 Scale;
    public Channels3 Bias;

    [InlineArray(3)]
    public struct Channels3
    {
        private float _element;
    }
}
