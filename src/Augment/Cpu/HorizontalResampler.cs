using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loader.Augment.Cpu;

/// <summary>
/// The horizontal pass over one row of interleaved RGB floats, fused with flip and normalization: pixel x of the output
/// row (written at <c>width - 1 - x</c> when flipping) is <c>sum_t w[t] * rgb[first + t] * scale + bias</c>, per channel.
/// The vector path loads four floats per tap (R, G, B and the next pixel's R, whose product is ignored) and runs every
/// tap slot, so the source row needs <see cref="SourceSlack"/> floats of finite padding, and stores four floats per pixel,
/// so the destination row needs <see cref="DestinationPadding"/>.
/// </summary>
internal static class HorizontalResampler
{
    /// <summary>Floats the source row needs past its last pixel that a tap can reach: the fourth lane of a load.</summary>
    public const int SourcePadding = 1;

    /// <summary>Floats the destination row needs past its last pixel: the fourth lane of a store.</summary>
    public const int DestinationPadding = 1;

    /// <summary>Floats the source row needs past its last pixel so that every pixel can run all taps.</summary>
    public static int SourceSlack(AxisCoefficients axis) => (axis.TapStride * 3) + SourcePadding;

    public static void Run(ReadOnlySpan<float> source, AxisCoefficients axis, bool flip, Vector128<float> scale,
        Vector128<float> bias, Span<float> destination)
    {
        if (Vector128.IsHardwareAccelerated)
        {
            RunVector128(source, axis, flip, scale, bias, destination);
        }
        else
        {
            RunScalar(source, axis.First, axis.Count, axis.Weights, axis.TapStride, flip, scale, bias, destination);
        }
    }

    internal static void RunScalar(ReadOnlySpan<float> source, ReadOnlySpan<int> first, ReadOnlySpan<int> count,
        ReadOnlySpan<float> weights, int tapStride, bool flip, Vector128<float> scale, Vector128<float> bias, Span<float> destination)
    {
        var width = first.Length;
        for (var x = 0; x < width; x++)
        {
            float r = 0, g = 0, b = 0;
            var taps = weights.Slice(x * tapStride, count[x]);
            var p = first[x] * 3;
            for (var t = 0; t < taps.Length; t++, p += 3)
            {
                r += taps[t] * source[p];
                g += taps[t] * source[p + 1];
                b += taps[t] * source[p + 2];
            }

            var o = (flip ? width - 1 - x : x) * 3;
            destination[o] = (r * scale[0]) + bias[0];
            destination[o + 1] = (g * scale[1]) + bias[1];
            destination[o + 2] = (b * scale[2]) + bias[2];
        }
    }

    private static void RunVector128(ReadOnlySpan<float> source, AxisCoefficients axis, bool flip, Vector128<float> scale,
        Vector128<float> bias, Span<float> destination)
    {
        var width = axis.Length;
        var tapStride = axis.TapStride;
        var first = axis.First;
        var weights = axis.Weights;

        // The slack check is kept at a whole tapStride past the last first index, so a pixel may run extra
        // zero-weight taps if a future kernel chooses to.
        var lastFirst = 0;
        for (var x = 0; x < width; x++)
        {
            lastFirst = Math.Max(lastFirst, first[x]);
        }

        if (((lastFirst + tapStride) * 3) + SourcePadding > source.Length || axis.MinIndex < 0 || destination.Length < (width * 3) + DestinationPadding)
        {
            throw new ArgumentException("The horizontal pass's rows are shorter than its coefficients need.");
        }

        ref var src = ref MemoryMarshal.GetReference(source);
        ref var dst = ref MemoryMarshal.GetReference(destination);
        ref var w0 = ref MemoryMarshal.GetReference(weights);
        ref var f0 = ref MemoryMarshal.GetReference(first);
        ref var c0 = ref MemoryMarshal.GetReference(axis.Count);

        // Each pixel is stored as four floats (R, G, B and a lane the next pixel overwrites), so pixels are written in
        // increasing memory order: left to right, or right to left in the source when flipping.
        var x0 = flip ? width - 1 : 0;
        var step = flip ? -1 : 1;
        for (int i = 0, x = x0; i < width; i++, x += step)
        {
            ref var w = ref Unsafe.Add(ref w0, x * tapStride);
            ref var p = ref Unsafe.Add(ref src, Unsafe.Add(ref f0, x) * 3);
            var acc = Fma.IsSupported
                ? SumTapsFma(ref w, ref p, Unsafe.Add(ref c0, x))
                : SumTaps(ref w, ref p, Unsafe.Add(ref c0, x));
            ((acc * scale) + bias).StoreUnsafe(ref dst, (nuint)(i * 3));
        }
    }

    /// <summary>
    /// The taps of one pixel, unrolled for the common counts (downscales up to 2x need at most 5), so the per-pixel
    /// loop has no inner loop; counts follow a short repeating pattern along a row, which branch predictors learn.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> SumTapsFma(ref float w, ref float p, int count)
    {
        var acc = Vector128.Create(w) * Vector128.LoadUnsafe(ref p);
        switch (count)
        {
            case 1:
                return acc;
            case 2:
                return Fma.MultiplyAdd(Vector128.Create(Unsafe.Add(ref w, 1)), Vector128.LoadUnsafe(ref p, 3), acc);
            case 3:
                acc = Fma.MultiplyAdd(Vector128.Create(Unsafe.Add(ref w, 1)), Vector128.LoadUnsafe(ref p, 3), acc);
                return Fma.MultiplyAdd(Vector128.Create(Unsafe.Add(ref w, 2)), Vector128.LoadUnsafe(ref p, 6), acc);
            case 4:
                acc = Fma.MultiplyAdd(Vector128.Create(Unsafe.Add(ref w, 1)), Vector128.LoadUnsafe(ref p, 3), acc);
                acc = Fma.MultiplyAdd(Vector128.Create(Unsafe.Add(ref w, 2)), Vector128.LoadUnsafe(ref p, 6), acc);
                return Fma.MultiplyAdd(Vector128.Create(Unsafe.Add(ref w, 3)), Vector128.LoadUnsafe(ref p, 9), acc);
            default:
                for (var t = 1; t < count; t++)
                {
                    acc = Fma.MultiplyAdd(Vector128.Create(Unsafe.Add(ref w, t)), Vector128.LoadUnsafe(ref p, (nuint)(t * 3)), acc);
                }

                return acc;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> SumTaps(ref float w, ref float p, int count)
    {
        var acc = Vector128<float>.Zero;
        for (var t = 0; t < count; t++)
        {
            acc += Vector128.Create(Unsafe.Add(ref w, t)) * Vector128.LoadUnsafe(ref p, (nuint)(t * 3));
        }

        return acc;
    }
}
