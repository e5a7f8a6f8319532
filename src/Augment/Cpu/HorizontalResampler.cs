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

    /// <summary>
    /// Two rows with the same coefficients at once (x64 with FMA): each weight is loaded once for both rows and the
    /// per-pixel bookkeeping is shared, which is most of this pass's cost. Every pixel runs the axis's
    /// <see cref="AxisCoefficients.MaxCount"/> taps (the extra ones have zero weight and read the row's slack): a
    /// per-pixel tap count would be a data-dependent branch that mispredicts often. Elsewhere, two calls to <see cref="Run"/>.
    /// </summary>
    public static void RunPair(ReadOnlySpan<float> source0, ReadOnlySpan<float> source1, AxisCoefficients axis, bool flip,
        Vector128<float> scale, Vector128<float> bias, Span<float> destination0, Span<float> destination1)
    {
        if (!Fma.IsSupported)
        {
            Run(source0, axis, flip, scale, bias, destination0);
            Run(source1, axis, flip, scale, bias, destination1);
            return;
        }

        ThrowIfTooShort(source0, axis, destination0);
        ThrowIfTooShort(source1, axis, destination1);
        switch (axis.MaxCount)
        {
            case 1:
                RunPairFixed<Taps1>(source0, source1, axis, flip, scale, bias, destination0, destination1);
                break;
            case 2:
                RunPairFixed<Taps2>(source0, source1, axis, flip, scale, bias, destination0, destination1);
                break;
            case 3:
                RunPairFixed<Taps3>(source0, source1, axis, flip, scale, bias, destination0, destination1);
                break;
            case 4:
                RunPairFixed<Taps4>(source0, source1, axis, flip, scale, bias, destination0, destination1);
                break;
            case 5:
                RunPairFixed<Taps5>(source0, source1, axis, flip, scale, bias, destination0, destination1);
                break;
            default:
                RunPairFixed<TapsAny>(source0, source1, axis, flip, scale, bias, destination0, destination1);
                break;
        }
    }

    /// <summary>The pair loop for a tap count the JIT knows (a struct type argument), so the tap sum is straight-line code.</summary>
    private static void RunPairFixed<TTaps>(ReadOnlySpan<float> source0, ReadOnlySpan<float> source1, AxisCoefficients axis, bool flip,
        Vector128<float> scale, Vector128<float> bias, Span<float> destination0, Span<float> destination1)
        where TTaps : struct, ITapCount
    {
        var width = axis.Length;
        var tapStride = axis.TapStride;
        var count = TTaps.Count(axis);
        ref var s0 = ref MemoryMarshal.GetReference(source0);
        ref var s1 = ref MemoryMarshal.GetReference(source1);
        ref var d0 = ref MemoryMarshal.GetReference(destination0);
        ref var d1 = ref MemoryMarshal.GetReference(destination1);
        ref var w0 = ref MemoryMarshal.GetReference(axis.Weights);
        ref var f0 = ref MemoryMarshal.GetReference(axis.First);
        var x0 = flip ? width - 1 : 0;
        var step = flip ? -1 : 1;
        for (int i = 0, x = x0; i < width; i++, x += step)
        {
            ref var w = ref Unsafe.Add(ref w0, x * tapStride);
            var p = Unsafe.Add(ref f0, x) * 3;
            SumTapsPairFma(ref w, ref Unsafe.Add(ref s0, p), ref Unsafe.Add(ref s1, p), count, out var acc0, out var acc1);
            Fma.MultiplyAdd(acc0, scale, bias).StoreUnsafe(ref d0, (nuint)(i * 3));
            Fma.MultiplyAdd(acc1, scale, bias).StoreUnsafe(ref d1, (nuint)(i * 3));
        }
    }

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

        ThrowIfTooShort(source, axis, destination);

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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SumTapsPairFma(ref float w, ref float p0, ref float p1, int count, out Vector128<float> acc0, out Vector128<float> acc1)
    {
        // With a constant count (RunPairFixed) the ifs fold away.
        var weight = Vector128.Create(w);
        acc0 = weight * Vector128.LoadUnsafe(ref p0);
        acc1 = weight * Vector128.LoadUnsafe(ref p1);
        if (count > 1)
        {
            TapPair(ref w, ref p0, ref p1, 1, ref acc0, ref acc1);
        }

        if (count > 2)
        {
            TapPair(ref w, ref p0, ref p1, 2, ref acc0, ref acc1);
        }

        if (count > 3)
        {
            TapPair(ref w, ref p0, ref p1, 3, ref acc0, ref acc1);
        }

        if (count > 4)
        {
            TapPair(ref w, ref p0, ref p1, 4, ref acc0, ref acc1);
        }

        for (var t = 5; t < count; t++)
        {
            TapPair(ref w, ref p0, ref p1, t, ref acc0, ref acc1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TapPair(ref float w, ref float p0, ref float p1, int t, ref Vector128<float> acc0, ref Vector128<float> acc1)
    {
        var weight = Vector128.Create(Unsafe.Add(ref w, t));
        acc0 = Fma.MultiplyAdd(weight, Vector128.LoadUnsafe(ref p0, (nuint)(t * 3)), acc0);
        acc1 = Fma.MultiplyAdd(weight, Vector128.LoadUnsafe(ref p1, (nuint)(t * 3)), acc1);
    }

    private static void ThrowIfTooShort(ReadOnlySpan<float> source, AxisCoefficients axis, Span<float> destination)
    {
        // Checked once per row so the pixel loop can run without bounds checks: every tap of every pixel must lie
        // inside the source row (plus the fourth lane of a load), every store inside the destination row.
        var lastFirst = 0;
        foreach (var first in axis.First)
        {
            lastFirst = Math.Max(lastFirst, first);
        }

        if (((lastFirst + axis.TapStride) * 3) + SourcePadding > source.Length || axis.MinIndex < 0
            || destination.Length < (axis.Length * 3) + DestinationPadding)
        {
            throw new ArgumentException("The horizontal pass's rows are shorter than its coefficients need.");
        }
    }

    /// <summary>A tap count as a type, so each <see cref="RunPairFixed{TTaps}"/> instantiation is compiled for its own count.</summary>
    private interface ITapCount
    {
        static abstract int Count(AxisCoefficients axis);
    }

    private readonly struct Taps1 : ITapCount
    {
        public static int Count(AxisCoefficients axis) => 1;
    }

    private readonly struct Taps2 : ITapCount
    {
        public static int Count(AxisCoefficients axis) => 2;
    }

    private readonly struct Taps3 : ITapCount
    {
        public static int Count(AxisCoefficients axis) => 3;
    }

    private readonly struct Taps4 : ITapCount
    {
        public static int Count(AxisCoefficients axis) => 4;
    }

    private readonly struct Taps5 : ITapCount
    {
        public static int Count(AxisCoefficients axis) => 5;
    }

    private readonly struct TapsAny : ITapCount
    {
        public static int Count(AxisCoefficients axis) => axis.MaxCount;
    }
}
