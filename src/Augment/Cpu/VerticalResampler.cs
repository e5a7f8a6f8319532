using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loader.Augment.Cpu;

/// <summary>
/// The vertical pass: one output row is a weighted sum of a few decoded RGB rows, widened from bytes to floats. Runs
/// first (unlike PIL, which goes horizontal first) because a row sum is a straight vector loop; the two orders agree
/// to float rounding.
/// </summary>
internal static class VerticalResampler
{
    /// <summary>
    /// <c>destination[k] = sum_t weights[t] * source[(first + t) * stride + k]</c> for k in [0, destination.Length).
    /// </summary>
    public static void Run(ReadOnlySpan<byte> source, int stride, int first, ReadOnlySpan<float> weights, Span<float> destination)
    {
        var length = destination.Length;
        var done = 0;
        if (Avx2.IsSupported && Fma.IsSupported && length >= 16)
        {
            done = RunAvx2(source, stride, first, weights, destination);
        }
        else if (Vector256.IsHardwareAccelerated && length >= 16)
        {
            done = RunVector256(source, stride, first, weights, destination);
        }

        RunScalar(source, stride, first, weights, destination, done, length);
    }

    internal static void RunScalar(ReadOnlySpan<byte> source, int stride, int first, ReadOnlySpan<float> weights,
        Span<float> destination, int start, int end)
    {
        for (var k = start; k < end; k++)
        {
            var sum = 0f;
            for (var t = 0; t < weights.Length; t++)
            {
                sum += weights[t] * source[((first + t) * stride) + k];
            }

            destination[k] = sum;
        }
    }

    /// <summary>
    /// x64 fast path: vpmovzxbd loads and widens eight bytes in one instruction, then one FMA per tap. Sixteen
    /// elements at a time; returns how many it did (a multiple of 16).
    /// </summary>
    private static unsafe int RunAvx2(ReadOnlySpan<byte> source, int stride, int first, ReadOnlySpan<float> weights, Span<float> destination)
    {
        var blocks = destination.Length & ~15;
        if (((first + weights.Length - 1) * stride) + blocks > source.Length)
        {
            return 0; // never for a well-formed call; let the bounds-checked scalar loop report it
        }

        fixed (byte* src0 = source)
        fixed (float* dst = destination)
        fixed (float* w = weights)
        {
            var rows = src0 + (first * stride);
            for (var k = 0; k < blocks; k += 16)
            {
                var acc0 = Vector256<float>.Zero;
                var acc1 = Vector256<float>.Zero;
                var p = rows + k;
                for (var t = 0; t < weights.Length; t++, p += stride)
                {
                    var weight = Vector256.Create(w[t]);
                    acc0 = Fma.MultiplyAdd(weight, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(p)), acc0);
                    acc1 = Fma.MultiplyAdd(weight, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(p + 8)), acc1);
                }

                Avx.Store(dst + k, acc0);
                Avx.Store(dst + k + 8, acc1);
            }
        }

        return blocks;
    }

    /// <summary>Portable 256-bit path. Sixteen bytes at a time; returns how many elements it did (a multiple of 16).</summary>
    private static int RunVector256(ReadOnlySpan<byte> source, int stride, int first, ReadOnlySpan<float> weights, Span<float> destination)
    {
        ref var src = ref MemoryMarshal.GetReference(source);
        ref var dst = ref MemoryMarshal.GetReference(destination);
        var blocks = destination.Length & ~15;
        var rowLimit = (first + weights.Length - 1) * stride;
        if (rowLimit + blocks > source.Length)
        {
            return 0; // never for a well-formed call; let the bounds-checked scalar loop report it
        }

        for (var k = 0; k < blocks; k += 16)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (var t = 0; t < weights.Length; t++)
            {
                var w = Vector256.Create(weights[t]);
                var bytes = Vector128.LoadUnsafe(ref src, (nuint)(((first + t) * stride) + k));
                var (lo, hi) = Widen(bytes);
                acc0 += w * lo;
                acc1 += w * hi;
            }

            acc0.StoreUnsafe(ref dst, (nuint)k);
            acc1.StoreUnsafe(ref dst, (nuint)(k + 8));
        }

        return blocks;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Lo, Vector256<float> Hi) Widen(Vector128<byte> bytes)
    {
        var (lo16, hi16) = Vector128.Widen(bytes);
        var lo = Vector256.Create(Vector128.WidenLower(lo16), Vector128.WidenUpper(lo16)).AsInt32();
        var hi = Vector256.Create(Vector128.WidenLower(hi16), Vector128.WidenUpper(hi16)).AsInt32();
        return (Vector256.ConvertToSingle(lo), Vector256.ConvertToSingle(hi));
    }
}
