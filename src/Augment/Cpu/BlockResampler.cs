using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loader.Augment.Cpu;

/// <summary>
/// The resize of eight output rows at once (x64 with AVX2 and FMA), the same sums as <see cref="VerticalResampler"/> +
/// <see cref="HorizontalResampler"/> but laid out so that every vector lane does useful work:
/// <list type="number">
/// <item>the vertical pass computes the eight rows' sums for eight columns, transposes the 8x8 block in registers and
/// stores it "row-interleaved": element k of row r at <c>columns[k * 8 + r]</c>;</item>
/// <item>the horizontal pass then sums each output pixel's taps for all eight rows with one 8-wide FMA per tap and
/// channel (instead of a 4-wide one per row, a quarter of it wasted), into three row-interleaved channel planes;</item>
/// <item>the store transposes those back into rows, straight into the planes of a float32 CHW sample (the training
/// layout; the others take the row-pair path).</item>
/// </list>
/// One per decoder: it owns its scratch buffers (no allocation once they are large enough).
/// </summary>
internal sealed class BlockResampler
{
    /// <summary>Output rows per block.</summary>
    public const int Rows = 8;

    private float[] _columns = [];
    private float[] _planes = [];

    /// <summary>Whether this machine and output take the block path.</summary>
    public static bool IsSupported(OutputSpec spec) => Avx2.IsSupported && Fma.IsSupported && spec.Type == PixelType.Float32
        && spec.Layout == PixelLayout.Nchw && spec.Height >= Rows;

    /// <summary>
    /// Prepares for one sample whose region rows hold <paramref name="rowBytes"/> bytes: sizes the buffers and zeroes
    /// the slack past the row that the horizontal taps read with zero weight.
    /// </summary>
    public void Begin(int rowBytes, AxisCoefficients horizontal, int outputWidth)
    {
        var columnFloats = (rowBytes + HorizontalResampler.SourceSlack(horizontal)) * Rows;
        if (_columns.Length < columnFloats)
        {
            _columns = new float[columnFloats + (columnFloats >> 2)];
        }

        _columns.AsSpan(rowBytes * Rows, columnFloats - (rowBytes * Rows)).Clear();
        var planeFloats = 3 * outputWidth * Rows;
        if (_planes.Length < planeFloats)
        {
            _planes = new float[planeFloats];
        }
    }

    /// <summary>
    /// Store the output with non-temporal stores (past the caches) where it is 32-byte aligned, whole 64-byte lines at
    /// a time where the rows start on lines (<see cref="StoreWholeLines"/>): for destinations that are not read again
    /// soon, such as a loader's batch slots, each larger than the last-level cache. It saves the read-for-ownership of
    /// every output line. Call <see cref="FenceStreamingStores"/> after each sample.
    /// </summary>
    public bool StreamingStores { get; set; }

    /// <summary>
    /// Orders this sample's non-temporal stores (they are weakly ordered) before whatever publishes the sample to a
    /// reader: call once after the sample's last <see cref="Run"/>. Once per sample, not per stored plane: each fence
    /// waits until the write-combining buffers have drained to memory, and one per plane (84 per 224x224 sample) cost
    /// 2.5x in a C loop of the same stores (71.5 against 28.7 us a sample) and about a tenth of the loader's resize.
    /// </summary>
    public void FenceStreamingStores()
    {
        if (StreamingStores)
        {
            Sse.StoreFence();
        }
    }

    /// <summary>
    /// Output rows <c>y .. y + 7</c> from the region (rows <paramref name="stride"/> bytes apart; columns before
    /// <paramref name="skip"/> are never read), flipped, normalized and stored into <paramref name="destination"/>.
    /// </summary>
    public unsafe void Run(ReadOnlySpan<byte> region, int stride, int skip, int rowBytes, AxisCoefficients vertical,
        AxisCoefficients horizontal, int y, bool flip, Vector128<float> scale, Vector128<float> bias, OutputSpec spec, Span<byte> destination)
    {
        ThrowIfTooShort(region, stride, rowBytes, vertical, horizontal, y, spec);
        fixed (byte* source = region)
        fixed (float* columns = _columns)
        fixed (float* planes = _planes)
        {
            Vertical(source, stride, skip, rowBytes, vertical, y, columns);
            Horizontal(columns, horizontal, flip, scale, bias, planes);
        }

        Store(y, spec, destination);
    }

    private static unsafe void Vertical(byte* source, int stride, int skip, int rowBytes, AxisCoefficients vertical, int y, float* columns)
    {
        var tapStride = vertical.TapStride;
        ref var first = ref MemoryMarshal.GetReference(vertical.First);
        ref var count = ref MemoryMarshal.GetReference(vertical.Count);
        fixed (float* weights = vertical.Weights)
        {
            var rows = stackalloc byte*[Rows];
            var taps = stackalloc float*[Rows];
            var counts = stackalloc int[Rows];
            for (var r = 0; r < Rows; r++)
            {
                rows[r] = source + (Unsafe.Add(ref first, y + r) * stride);
                taps[r] = weights + ((y + r) * tapStride);
                counts[r] = Unsafe.Add(ref count, y + r);
            }

            var k = skip;
            for (; k + 8 <= rowBytes; k += 8)
            {
                var a0 = Taps(rows[0] + k, taps[0], counts[0], stride);
                var a1 = Taps(rows[1] + k, taps[1], counts[1], stride);
                var a2 = Taps(rows[2] + k, taps[2], counts[2], stride);
                var a3 = Taps(rows[3] + k, taps[3], counts[3], stride);
                var a4 = Taps(rows[4] + k, taps[4], counts[4], stride);
                var a5 = Taps(rows[5] + k, taps[5], counts[5], stride);
                var a6 = Taps(rows[6] + k, taps[6], counts[6], stride);
                var a7 = Taps(rows[7] + k, taps[7], counts[7], stride);
                Transpose(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
                StoreBlock(columns + (k * Rows), a0, a1, a2, a3, a4, a5, a6, a7);
            }

            for (; k < rowBytes; k++)
            {
                for (var r = 0; r < Rows; r++)
                {
                    var sum = 0f;
                    for (var t = 0; t < counts[r]; t++)
                    {
                        sum += taps[r][t] * rows[r][(t * stride) + k];
                    }

                    columns[(k * Rows) + r] = sum;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> Taps(byte* p, float* w, int count, int stride)
    {
        var acc = Vector256.Create(w[0]) * Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(p));
        for (var t = 1; t < count; t++)
        {
            p += stride;
            acc = Fma.MultiplyAdd(Vector256.Create(w[t]), Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(p)), acc);
        }

        return acc;
    }

    /// <summary>The horizontal pass for all eight rows at once: three channel planes, pixel i's eight rows at <c>i * 8</c>.</summary>
    private static unsafe void Horizontal(float* columns, AxisCoefficients horizontal, bool flip, Vector128<float> scale, Vector128<float> bias, float* planes)
    {
        var width = horizontal.Length;
        var tapStride = horizontal.TapStride;
        var taps = horizontal.MaxCount; // every pixel runs them all: the extra weights are zero and read the zeroed slack
        var scaleR = Vector256.Create(scale.GetElement(0));
        var scaleG = Vector256.Create(scale.GetElement(1));
        var scaleB = Vector256.Create(scale.GetElement(2));
        var biasR = Vector256.Create(bias.GetElement(0));
        var biasG = Vector256.Create(bias.GetElement(1));
        var biasB = Vector256.Create(bias.GetElement(2));
        var planeG = planes + (width * Rows);
        var planeB = planes + (2 * width * Rows);
        ref var first = ref MemoryMarshal.GetReference(horizontal.First);
        fixed (float* weights = horizontal.Weights)
        {
            for (var i = 0; i < width; i++)
            {
                var x = flip ? width - 1 - i : i;
                var w = weights + (x * tapStride);
                var p = columns + (Unsafe.Add(ref first, x) * 3 * Rows);
                var weight = Vector256.Create(w[0]);
                var r = weight * Avx.LoadVector256(p);
                var g = weight * Avx.LoadVector256(p + 8);
                var b = weight * Avx.LoadVector256(p + 16);
                for (var t = 1; t < taps; t++)
                {
                    p += 3 * Rows;
                    weight = Vector256.Create(w[t]);
                    r = Fma.MultiplyAdd(weight, Avx.LoadVector256(p), r);
                    g = Fma.MultiplyAdd(weight, Avx.LoadVector256(p + 8), g);
                    b = Fma.MultiplyAdd(weight, Avx.LoadVector256(p + 16), b);
                }

                Avx.Store(planes + (i * Rows), Fma.MultiplyAdd(r, scaleR, biasR));
                Avx.Store(planeG + (i * Rows), Fma.MultiplyAdd(g, scaleG, biasG));
                Avx.Store(planeB + (i * Rows), Fma.MultiplyAdd(b, scaleB, biasB));
            }
        }
    }

    private void Store(int y, OutputSpec spec, Span<byte> destination)
    {
        var width = spec.Width;
        var sample = MemoryMarshal.Cast<byte, float>(destination);
        var plane = width * spec.Height;
        for (var c = 0; c < 3; c++)
        {
            StorePlane(_planes.AsSpan(c * width * Rows, width * Rows), sample.Slice((c * plane) + (y * width), Rows * width), width, StreamingStores);
        }
    }

    /// <summary>One channel: pixel i's eight rows at <c>source[i * 8 ..]</c> into eight rows of <paramref name="width"/>;
    /// with <paramref name="streaming"/>, non-temporal where the rows are 32-byte aligned (whole 8-pixel steps).</summary>
    private static unsafe void StorePlane(ReadOnlySpan<float> source, Span<float> rows, int width, bool streaming)
    {
        fixed (float* s = source)
        fixed (float* d = rows)
        {
            streaming &= ((nuint)d % 32) == 0 && width % 8 == 0;
            var i = 0;
            if (streaming && ((nuint)d % 64) == 0 && width % 16 == 0)
            {
                i = StoreWholeLines(s, d, width);
            }

            for (; i + 8 <= width; i += 8)
            {
                var p = s + (i * Rows);
                LoadTransposed(p, out var a0, out var a1, out var a2, out var a3, out var a4, out var a5, out var a6, out var a7);
                Put(d + i, a0, streaming);
                Put(d + width + i, a1, streaming);
                Put(d + (2 * width) + i, a2, streaming);
                Put(d + (3 * width) + i, a3, streaming);
                Put(d + (4 * width) + i, a4, streaming);
                Put(d + (5 * width) + i, a5, streaming);
                Put(d + (6 * width) + i, a6, streaming);
                Put(d + (7 * width) + i, a7, streaming);
            }

            for (; i < width; i++)
            {
                for (var r = 0; r < Rows; r++)
                {
                    d[(r * width) + i] = s[(i * Rows) + r];
                }
            }
        }
    }

    /// <summary>
    /// The streaming store of a plane whose rows start on 64-byte lines: sixteen pixels (one line) of each of the eight
    /// rows at a time, the line written by two consecutive non-temporal stores before the next row's. Eight rows of
    /// half lines in turn (the 8-pixel loop) leave eight lines open in the write-combining buffers at once, and the
    /// loader's resize then cost about 3x what it costs into a cached buffer; whole lines cost less than that
    /// (`perf record` of `loader-bench run --threads 1`, samples in the resize and store per 10,000 images: 3,425 half
    /// lines, 1,749-1,959 ordinary stores, 1,020 whole lines). Returns the pixels stored (all of them).
    /// </summary>
    private static unsafe int StoreWholeLines(float* s, float* d, int width)
    {
        var first = stackalloc float[Rows * 8]; // the left halves of the eight rows' lines, transposed
        var i = 0;
        for (; i + 16 <= width; i += 16)
        {
            var p = s + (i * Rows);
            LoadTransposed(p, out var a0, out var a1, out var a2, out var a3, out var a4, out var a5, out var a6, out var a7);
            StoreBlock(first, a0, a1, a2, a3, a4, a5, a6, a7);
            LoadTransposed(p + (8 * Rows), out a0, out a1, out a2, out a3, out a4, out a5, out a6, out a7);
            Line(d + i, first, a0);
            Line(d + width + i, first + 8, a1);
            Line(d + (2 * width) + i, first + 16, a2);
            Line(d + (3 * width) + i, first + 24, a3);
            Line(d + (4 * width) + i, first + 32, a4);
            Line(d + (5 * width) + i, first + 40, a5);
            Line(d + (6 * width) + i, first + 48, a6);
            Line(d + (7 * width) + i, first + 56, a7);
        }

        return i;
    }

    /// <summary>Eight pixels of the eight rows, row-interleaved at <paramref name="p"/>, as eight rows of eight pixels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void LoadTransposed(float* p, out Vector256<float> a0, out Vector256<float> a1, out Vector256<float> a2,
        out Vector256<float> a3, out Vector256<float> a4, out Vector256<float> a5, out Vector256<float> a6, out Vector256<float> a7)
    {
        a0 = Avx.LoadVector256(p);
        a1 = Avx.LoadVector256(p + 8);
        a2 = Avx.LoadVector256(p + 16);
        a3 = Avx.LoadVector256(p + 24);
        a4 = Avx.LoadVector256(p + 32);
        a5 = Avx.LoadVector256(p + 40);
        a6 = Avx.LoadVector256(p + 48);
        a7 = Avx.LoadVector256(p + 56);
        Transpose(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
    }

    /// <summary>Eight vectors to 64 consecutive floats at <paramref name="at"/> (ordinary stores).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreBlock(float* at, Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3,
        Vector256<float> a4, Vector256<float> a5, Vector256<float> a6, Vector256<float> a7)
    {
        Avx.Store(at, a0);
        Avx.Store(at + 8, a1);
        Avx.Store(at + 16, a2);
        Avx.Store(at + 24, a3);
        Avx.Store(at + 32, a4);
        Avx.Store(at + 40, a5);
        Avx.Store(at + 48, a6);
        Avx.Store(at + 56, a7);
    }

    /// <summary>One whole 64-byte line of output, non-temporal: the first half from memory, then the second.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Line(float* address, float* first, Vector256<float> second)
    {
        Avx.StoreAlignedNonTemporal(address, Avx.LoadVector256(first));
        Avx.StoreAlignedNonTemporal(address + 8, second);
    }

    /// <summary>One vector of output: non-temporal (past the caches) or ordinary; <paramref name="streaming"/> is the
    /// same for a whole plane, so the branch is always predicted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Put(float* address, Vector256<float> value, bool streaming)
    {
        if (streaming)
        {
            Avx.StoreAlignedNonTemporal(address, value);
        }
        else
        {
            Avx.Store(address, value);
        }
    }

    /// <summary>8x8 transpose: afterwards a_j holds what was lane j of a0..a7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose(ref Vector256<float> a0, ref Vector256<float> a1, ref Vector256<float> a2, ref Vector256<float> a3,
        ref Vector256<float> a4, ref Vector256<float> a5, ref Vector256<float> a6, ref Vector256<float> a7)
    {
        var t0 = Avx.UnpackLow(a0, a1);
        var t1 = Avx.UnpackHigh(a0, a1);
        var t2 = Avx.UnpackLow(a2, a3);
        var t3 = Avx.UnpackHigh(a2, a3);
        var t4 = Avx.UnpackLow(a4, a5);
        var t5 = Avx.UnpackHigh(a4, a5);
        var t6 = Avx.UnpackLow(a6, a7);
        var t7 = Avx.UnpackHigh(a6, a7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        a0 = Avx.Permute2x128(u0, u4, 0x20);
        a1 = Avx.Permute2x128(u1, u5, 0x20);
        a2 = Avx.Permute2x128(u2, u6, 0x20);
        a3 = Avx.Permute2x128(u3, u7, 0x20);
        a4 = Avx.Permute2x128(u0, u4, 0x31);
        a5 = Avx.Permute2x128(u1, u5, 0x31);
        a6 = Avx.Permute2x128(u2, u6, 0x31);
        a7 = Avx.Permute2x128(u3, u7, 0x31);
    }

    private void ThrowIfTooShort(ReadOnlySpan<byte> region, int stride, int rowBytes, AxisCoefficients vertical, AxisCoefficients horizontal,
        int y, OutputSpec spec)
    {
        // Checked once per block so the loops can run on raw pointers: every tap row of the eight rows lies inside the
        // region, every horizontal tap inside the column buffer, every store inside the planes and the sample.
        if (y < 0 || y + Rows > vertical.Length || horizontal.Length != spec.Width || vertical.Length != spec.Height
            || horizontal.MinIndex < 0 || horizontal.MaxIndexExclusive * 3 > rowBytes || stride < rowBytes
            || _planes.Length < 3 * spec.Width * Rows || !IsSupported(spec))
        {
            throw new ArgumentException("The block resampler's buffers are shorter than its coefficients need.");
        }

        for (var r = 0; r < Rows; r++)
        {
            var last = vertical.First[y + r] + vertical.Count[y + r] - 1;
            if (vertical.First[y + r] < 0 || ((long)last * stride) + rowBytes > region.Length)
            {
                throw new ArgumentException("The region is shorter than the vertical taps need.");
            }
        }

        var lastFirst = 0;
        foreach (var first in horizontal.First)
        {
            lastFirst = Math.Max(lastFirst, first);
        }

        if ((lastFirst + horizontal.TapStride) * 3 * Rows > _columns.Length)
        {
            throw new ArgumentException("The column buffer is shorter than the horizontal taps need.");
        }
    }
}
