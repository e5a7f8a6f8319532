using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loader.Augment.Cpu;

/// <summary>
/// Writes one finished output row (interleaved RGB floats, already normalized) into the sample's destination in the
/// requested element type and layout: HWC rows are contiguous; CHW rows go to three planes.
/// </summary>
internal static class PixelStore
{
    /// <summary>Stores output row <paramref name="y"/> (Width * 3 RGB floats) into the whole sample <paramref name="destination"/>.</summary>
    public static void StoreRow(ReadOnlySpan<float> row, int y, OutputSpec spec, Span<byte> destination)
    {
        var width = spec.Width;
        var plane = width * spec.Height;
        switch (spec.Type, spec.Layout)
        {
            case (PixelType.Float32, PixelLayout.Nhwc):
                row.CopyTo(MemoryMarshal.Cast<byte, float>(destination).Slice(y * width * 3, width * 3));
                break;
            case (PixelType.Float32, PixelLayout.Nchw):
                DeinterleaveFloat32(row, MemoryMarshal.Cast<byte, float>(destination), y * width, plane);
                break;
            case (PixelType.Float16, PixelLayout.Nhwc):
                Convert<Half, ToHalf>(row, MemoryMarshal.Cast<byte, Half>(destination).Slice(y * width * 3, width * 3));
                break;
            case (PixelType.Float16, PixelLayout.Nchw):
                Deinterleave<Half, ToHalf>(row, MemoryMarshal.Cast<byte, Half>(destination), y * width, plane);
                break;
            case (PixelType.BFloat16, PixelLayout.Nhwc):
                Convert<ushort, ToBrain>(row, MemoryMarshal.Cast<byte, ushort>(destination).Slice(y * width * 3, width * 3));
                break;
            case (PixelType.BFloat16, PixelLayout.Nchw):
                Deinterleave<ushort, ToBrain>(row, MemoryMarshal.Cast<byte, ushort>(destination), y * width, plane);
                break;
            case (PixelType.UInt8, PixelLayout.Nhwc):
                ToBytes(row, destination.Slice(y * width * 3, width * 3));
                break;
            default:
                throw new NotSupportedException($"Output {spec.Type} {spec.Layout} is not supported (UInt8 is HWC only).");
        }
    }

    /// <summary>Round to nearest even, the conversion PyTorch's <c>.to(torch.bfloat16)</c> does.</summary>
    public static ushort ToBFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x40);
        }

        var rounding = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    /// <summary>Round half to even and clamp to 0..255; 32 values per step, narrowed int32 -> uint16 -> byte in registers.</summary>
    public static void ToBytes(ReadOnlySpan<float> source, Span<byte> destination)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("The destination is shorter than the source.", nameof(destination));
        }

        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var s = ref MemoryMarshal.GetReference(source);
            ref var d = ref MemoryMarshal.GetReference(destination);
            for (; i + 32 <= source.Length; i += 32)
            {
                var low = Vector256.Narrow(RoundToInt32(ref s, i), RoundToInt32(ref s, i + 8)).AsUInt16();
                var high = Vector256.Narrow(RoundToInt32(ref s, i + 16), RoundToInt32(ref s, i + 24)).AsUInt16();
                Vector256.Narrow(low, high).StoreUnsafe(ref d, (nuint)i);
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] = (byte)Math.Clamp(MathF.Round(source[i], MidpointRounding.ToEven), 0f, 255f);
        }
    }

    private static Vector256<int> RoundToInt32(ref float source, int offset)
    {
        var v = Vector256.Min(Vector256.Max(Vector256.LoadUnsafe(ref source, (nuint)offset), Vector256<float>.Zero), Vector256.Create(255f));
        return Vector256.ConvertToInt32(Vector256.Round(v));
    }

    /// <summary>RGB-interleaved floats into three planes; eight pixels per step with AVX2 permutes and blends.</summary>
    private static void DeinterleaveFloat32(ReadOnlySpan<float> row, Span<float> sample, int offset, int plane)
    {
        var width = row.Length / 3;
        var r = sample.Slice(offset, width);
        var g = sample.Slice(plane + offset, width);
        var b = sample.Slice((2 * plane) + offset, width);
        var x = 0;
        if (Avx2.IsSupported)
        {
            // a = r0 g0 b0 r1 g1 b1 r2 g2 | b = b2 r3 g3 b3 r4 g4 b4 r5 | c = g5 b5 r6 g6 b6 r7 g7 b7. One index vector
            // per channel puts each source's share of that channel in the right lanes; two blends merge them.
            var indexR = Vector256.Create(0, 3, 6, 1, 4, 7, 2, 5);
            var indexG = Vector256.Create(1, 4, 7, 2, 5, 0, 3, 6);
            var indexB = Vector256.Create(2, 5, 0, 3, 6, 1, 4, 7);
            ref var src = ref MemoryMarshal.GetReference(row);
            for (; x + 8 <= width; x += 8)
            {
                var a = Vector256.LoadUnsafe(ref src, (nuint)(x * 3));
                var bb = Vector256.LoadUnsafe(ref src, (nuint)((x * 3) + 8));
                var c = Vector256.LoadUnsafe(ref src, (nuint)((x * 3) + 16));
                var red = Avx.Blend(Avx.Blend(Avx2.PermuteVar8x32(a, indexR), Avx2.PermuteVar8x32(bb, indexR), 0b0011_1000), Avx2.PermuteVar8x32(c, indexR), 0b1100_0000);
                var green = Avx.Blend(Avx.Blend(Avx2.PermuteVar8x32(a, indexG), Avx2.PermuteVar8x32(bb, indexG), 0b0001_1000), Avx2.PermuteVar8x32(c, indexG), 0b1110_0000);
                var blue = Avx.Blend(Avx.Blend(Avx2.PermuteVar8x32(a, indexB), Avx2.PermuteVar8x32(bb, indexB), 0b0001_1100), Avx2.PermuteVar8x32(c, indexB), 0b1110_0000);
                red.CopyTo(r[x..]);
                green.CopyTo(g[x..]);
                blue.CopyTo(b[x..]);
            }
        }

        for (var p = x * 3; x < width; x++, p += 3)
        {
            r[x] = row[p];
            g[x] = row[p + 1];
            b[x] = row[p + 2];
        }
    }

    private static void Convert<T, TConvert>(ReadOnlySpan<float> source, Span<T> destination)
        where TConvert : struct, IElementConverter<T>
    {
        for (var i = 0; i < source.Length; i++)
        {
            destination[i] = TConvert.Convert(source[i]);
        }
    }

    private static void Deinterleave<T, TConvert>(ReadOnlySpan<float> row, Span<T> sample, int offset, int plane)
        where TConvert : struct, IElementConverter<T>
    {
        var width = row.Length / 3;
        var r = sample.Slice(offset, width);
        var g = sample.Slice(plane + offset, width);
        var b = sample.Slice((2 * plane) + offset, width);
        for (int x = 0, p = 0; x < width; x++, p += 3)
        {
            r[x] = TConvert.Convert(row[p]);
            g[x] = TConvert.Convert(row[p + 1]);
            b[x] = TConvert.Convert(row[p + 2]);
        }
    }

    private interface IElementConverter<T>
    {
        static abstract T Convert(float value);
    }

    private readonly struct ToSingle : IElementConverter<float>
    {
        public static float Convert(float value) => value;
    }

    private readonly struct ToHalf : IElementConverter<Half>
    {
        public static Half Convert(float value) => (Half)value;
    }

    private readonly struct ToBrain : IElementConverter<ushort>
    {
        public static ushort Convert(float value) => ToBFloat16(value);
    }
}
