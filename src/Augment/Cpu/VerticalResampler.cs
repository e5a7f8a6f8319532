using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loader.Augment.Cpu;

/// <summary>
/// The vertical pass: one output row is a weighted sum of a few decoded RGB rows, widened from bytes to floats. Runs
/// first (unlike PIL, which goes horizontal first) because a row sum is a straight vector loop; the two orders agree
/// to float rounding. x64 with AVX2 and FMA takes the vector path; anything else the scalar loop (a portable 256-bit
/// path would run nowhere: Vector256 is accelerated only where AVX2 is).
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
}
