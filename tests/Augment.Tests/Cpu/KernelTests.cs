using System.Runtime.Intrinsics;
using Loader.Augment.Cpu;

namespace Loader.Augment.Tests.Cpu;

/// <summary>
/// Every SIMD kernel against a slow scalar reference written here, in double precision. <see cref="HardwareIntrinsicsOffTests"/>
/// reruns this class with DOTNET_EnableHWIntrinsic=0, so the scalar fallbacks are checked the same way.
/// </summary>
public sealed class KernelTests
{
    private const float Tolerance = 1e-3f;

    [Theory]
    [InlineData(1, 1, 3)]
    [InlineData(7, 3, 15)]
    [InlineData(100, 2, 672)]
    [InlineData(333, 5, 999)]
    public void VerticalResampler_MatchesReference(int seed, int taps, int rowLength)
    {
        var random = new Random(seed);
        var rows = taps + 3;
        var stride = rowLength + 5;
        var source = new byte[stride * rows];
        random.NextBytes(source);
        var weights = Enumerable.Range(0, taps).Select(_ => random.NextSingle()).ToArray();
        var destination = new float[rowLength];

        VerticalResampler.Run(source, stride, 2, weights, destination);

        for (var k = 0; k < rowLength; k++)
        {
            double expected = 0;
            for (var t = 0; t < taps; t++)
            {
                expected += weights[t] * (double)source[((2 + t) * stride) + k];
            }

            Assert.True(Math.Abs(expected - destination[k]) < Tolerance * 255, $"k={k}: {destination[k]} vs {expected}");
        }
    }

    [Theory]
    [InlineData(20, 224, false)]
    [InlineData(450, 224, true)]
    [InlineData(224, 224, false)]
    [InlineData(3, 64, true)]
    [InlineData(1, 5, false)]
    public void HorizontalResampler_MatchesReference(int inputWidth, int outputWidth, bool flip)
    {
        var random = new Random(inputWidth);
        var axis = new AxisCoefficients();
        axis.Compute(0.3, inputWidth - 0.6, outputWidth, 0, inputWidth);
        var source = new float[(inputWidth * 3) + HorizontalResampler.SourceSlack(axis)];
        for (var i = 0; i < source.Length; i++)
        {
            source[i] = random.NextSingle() * 255;
        }

        var scale = Vector128.Create(0.5f, 2f, -1f, 0f);
        var bias = Vector128.Create(1f, -3f, 0.25f, 0f);
        var destination = new float[(outputWidth * 3) + HorizontalResampler.DestinationPadding];

        HorizontalResampler.Run(source, axis, flip, scale, bias, destination);

        for (var x = 0; x < outputWidth; x++)
        {
            var o = (flip ? outputWidth - 1 - x : x) * 3;
            for (var c = 0; c < 3; c++)
            {
                double sum = 0;
                for (var t = 0; t < axis.Count[x]; t++)
                {
                    sum += axis.Weights[(x * axis.TapStride) + t] * (double)source[((axis.First[x] + t) * 3) + c];
                }

                var expected = (sum * scale[c]) + bias[c];
                Assert.True(Math.Abs(expected - destination[o + c]) < Tolerance * 255, $"x={x} c={c}: {destination[o + c]} vs {expected}");
            }
        }
    }

    [Theory]
    [InlineData(300, 224, false)]
    [InlineData(150, 224, true)]
    [InlineData(900, 224, true)]
    public void HorizontalResampler_RunPair_EqualsTwoRuns(int inputWidth, int outputWidth, bool flip)
    {
        var random = new Random(inputWidth + 1);
        var axis = new AxisCoefficients();
        axis.Compute(1.5, inputWidth - 2.5, outputWidth, 1, inputWidth);
        var rows = new float[2][];
        var pair = new float[2][];
        var single = new float[2][];
        for (var k = 0; k < 2; k++)
        {
            rows[k] = Enumerable.Range(0, (inputWidth * 3) + HorizontalResampler.SourceSlack(axis)).Select(_ => random.NextSingle() * 255).ToArray();
            pair[k] = new float[(outputWidth * 3) + HorizontalResampler.DestinationPadding];
            single[k] = new float[pair[k].Length];
        }

        var scale = Vector128.Create(0.01f, 0.02f, 0.03f, 0f);
        var bias = Vector128.Create(-1f, -2f, -3f, 0f);
        HorizontalResampler.RunPair(rows[0], rows[1], axis, flip, scale, bias, pair[0], pair[1]);
        for (var k = 0; k < 2; k++)
        {
            HorizontalResampler.Run(rows[k], axis, flip, scale, bias, single[k]);
            for (var i = 0; i < outputWidth * 3; i++)
            {
                Assert.True(Math.Abs(pair[k][i] - single[k][i]) < 1e-4f, $"row {k} [{i}]: {pair[k][i]} vs {single[k][i]}");
            }
        }
    }

    [Theory]
    [InlineData(300, 224)]
    [InlineData(4, 2)]
    [InlineData(100, 224)]
    public void AxisCoefficients_MaxCount_IsTheLargestTapCount(int inputWidth, int outputWidth)
    {
        var axis = new AxisCoefficients();
        axis.Compute(0, inputWidth, outputWidth, 0, inputWidth);
        var largest = 0;
        foreach (var count in axis.Count)
        {
            largest = Math.Max(largest, count);
        }

        Assert.Equal(largest, axis.MaxCount);
        Assert.True(axis.MaxCount <= axis.TapStride);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(672)]
    [InlineData(1001)]
    public void PixelStore_ToBytes_RoundsHalfToEvenAndClamps(int length)
    {
        var random = new Random(length);
        var source = new float[length];
        for (var i = 0; i < length; i++)
        {
            // Every third value an exact half, so ties are exercised; the range runs past both ends of 0..255.
            source[i] = i % 3 == 0 ? random.Next(-3, 259) + 0.5f : (random.NextSingle() * 300) - 20;
        }

        var destination = new byte[length];
        PixelStore.ToBytes(source, destination);
        for (var i = 0; i < length; i++)
        {
            var expected = (byte)Math.Clamp(Math.Round((double)source[i], MidpointRounding.ToEven), 0, 255);
            Assert.True(expected == destination[i], $"[{i}] {source[i]}: {destination[i]} vs {expected}");
        }
    }

    [Fact]
    public void AxisCoefficients_DownscaleByTwo_IsPilsTriangleFilter()
    {
        // PIL precompute_coeffs for 4 -> 2: scale 2, support 2; output 0 centered at 1.0 reads inputs 0..2 with
        // triangle weights 0.75, 0.75, 0.25, normalized by their sum 1.75.
        var axis = new AxisCoefficients();
        axis.Compute(0, 4, 2, 0, 4);
        Assert.Equal(0, axis.First[0]);
        Assert.Equal(3, axis.Count[0]);
        Assert.Equal(0.75f / 1.75f, axis.Weights[0], 6);
        Assert.Equal(0.75f / 1.75f, axis.Weights[1], 6);
        Assert.Equal(0.25f / 1.75f, axis.Weights[2], 6);
        Assert.Equal(0, axis.MinIndex);
        Assert.Equal(4, axis.MaxIndexExclusive);
    }

    [Fact]
    public void AxisCoefficients_ClipRange_IsNeverLeftAndWeightsSumToOne()
    {
        var axis = new AxisCoefficients();
        axis.Compute(10.25, 100.5, 37, 10, 111);
        for (var i = 0; i < axis.Length; i++)
        {
            Assert.InRange(axis.First[i], 10, 110);
            Assert.InRange(axis.First[i] + axis.Count[i], 11, 111);
            var sum = 0f;
            for (var t = 0; t < axis.Count[i]; t++)
            {
                sum += axis.Weights[(i * axis.TapStride) + t];
            }

            Assert.Equal(1f, sum, 5);
        }
    }

    [Theory]
    [InlineData(PixelType.Float32, PixelLayout.Nchw)]
    [InlineData(PixelType.Float32, PixelLayout.Nhwc)]
    [InlineData(PixelType.Float16, PixelLayout.Nchw)]
    [InlineData(PixelType.Float16, PixelLayout.Nhwc)]
    [InlineData(PixelType.BFloat16, PixelLayout.Nchw)]
    [InlineData(PixelType.BFloat16, PixelLayout.Nhwc)]
    [InlineData(PixelType.UInt8, PixelLayout.Nhwc)]
    public void PixelStore_MatchesReference(PixelType type, PixelLayout layout)
    {
        const int Width = 21; // two 8-pixel vector steps and a scalar tail
        var spec = new OutputSpec(Width, 2, type, layout, [0, 0, 0], [1, 1, 1]);
        var random = new Random(3);
        var rows = new float[2][];
        var destination = new byte[spec.BytesPerSample];
        for (var y = 0; y < 2; y++)
        {
            rows[y] = Enumerable.Range(0, Width * 3).Select(_ => type == PixelType.UInt8 ? (random.NextSingle() * 300) - 20 : (random.NextSingle() * 6) - 3).ToArray();
            PixelStore.StoreRow(rows[y], y, spec, destination);
        }

        for (var y = 0; y < 2; y++)
        {
            for (var x = 0; x < Width; x++)
            {
                for (var c = 0; c < 3; c++)
                {
                    var value = rows[y][(x * 3) + c];
                    var index = layout == PixelLayout.Nhwc ? (((y * Width) + x) * 3) + c : (c * Width * 2) + (y * Width) + x;
                    switch (type)
                    {
                        case PixelType.Float32:
                            Assert.Equal(value, BitConverter.ToSingle(destination, index * 4));
                            break;
                        case PixelType.Float16:
                            Assert.Equal((Half)value, BitConverter.ToHalf(destination, index * 2));
                            break;
                        case PixelType.BFloat16:
                            var bf = BitConverter.ToUInt16(destination, index * 2);
                            var back = BitConverter.UInt32BitsToSingle((uint)bf << 16);
                            Assert.True(Math.Abs(back - value) <= Math.Abs(value) / 256, $"{value} -> {back}");
                            break;
                        default:
                            Assert.Equal((byte)Math.Clamp(Math.Round(value, MidpointRounding.ToEven), 0, 255), destination[index]);
                            break;
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(1.0f, (ushort)0x3F80)]
    [InlineData(-2.0f, (ushort)0xC000)]
    [InlineData(1.00390625f, (ushort)0x3F80)]  // exactly half way between 0x3F80 and 0x3F81: to even
    [InlineData(1.01171875f, (ushort)0x3F82)]  // half way between 0x3F81 and 0x3F82: to even
    [InlineData(1.0078125f, (ushort)0x3F81)]
    public void ToBFloat16_RoundsToNearestEven(float value, ushort expected) => Assert.Equal(expected, PixelStore.ToBFloat16(value));

    [Fact]
    public void ReportsWhetherHardwareIntrinsicsAreOn()
    {
        // In the child run with DOTNET_EnableHWIntrinsic=0 the runtime must really be scalar, or that run proves nothing.
        if (Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") == "0")
        {
            Assert.False(Vector128.IsHardwareAccelerated);
            Assert.False(Vector256.IsHardwareAccelerated);
        }

        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX2") == "0")
        {
            Assert.False(System.Runtime.Intrinsics.X86.Fma.IsSupported);
            Assert.False(System.Runtime.Intrinsics.X86.Avx2.IsSupported);
        }
    }

    /// <summary>The splicer's marker search (32 bytes at a time where Vector256 is accelerated) against a byte loop,
    /// on data dense in 0xFF, stuffed 0xFF 0x00, fill runs and markers, from every start offset.</summary>
    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(3, 31)]
    [InlineData(4, 33)]
    [InlineData(5, 64)]
    [InlineData(6, 200)]
    [InlineData(7, 3000)]
    public void JpegSplicerNextMarker_MatchesReference(int seed, int length)
    {
        var random = new Random(seed);
        for (var trial = 0; trial < 20; trial++)
        {
            var data = new byte[length];
            for (var i = 0; i < length; i++)
            {
                // Mostly data bytes, with 0xFF 0x00 pairs, lone 0xFF before other bytes, and 0xFF at the very end.
                data[i] = random.Next(10) switch
                {
                    0 => 0xFF,
                    1 => 0x00,
                    _ => (byte)random.Next(0xFF),
                };
                if (i > 0 && data[i - 1] == 0xFF && random.Next(2) == 0)
                {
                    data[i] = 0x00; // a stuffed 0xFF
                }
            }

            if (length > 0 && trial % 5 == 4)
            {
                data[^1] = 0xFF;
            }

            for (var start = 0; start <= length; start += length > 300 ? 7 : 1)
            {
                Assert.Equal(ReferenceNextMarker(data, start), Loader.Augment.Jpeg.JpegSplicer.NextMarker(data, start));
            }
        }
    }

    private static int ReferenceNextMarker(byte[] data, int start)
    {
        for (var i = start; i < data.Length; i++)
        {
            if (data[i] == 0xFF && (i + 1 == data.Length || data[i + 1] != 0x00))
            {
                return i;
            }
        }

        return -1;
    }
}
