using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Loader.Augment.Cpu;

namespace Loader.Augment.Tests.Cpu;

/// <summary>
/// The eight-row block resampler (AVX2 + FMA only) against a scalar reference written here in double precision: the
/// vertical then horizontal triangle-filter sums, flip, scale and bias, stored as float32 CHW.
/// </summary>
public sealed class BlockResamplerTests
{
    [Theory]
    [InlineData(300, 260, 224, 224, false, 0)]
    [InlineData(300, 260, 224, 224, true, 0)]
    [InlineData(301, 250, 61, 19, true, 2)] // a width that leaves a tail after 8-pixel steps; 19 rows = 2 blocks + 3
    [InlineData(40, 30, 64, 48, false, 1)] // upscaling both ways
    [InlineData(900, 700, 224, 16, true, 5)] // 4x and 43x downscales: many taps
    public void Run_MatchesScalarReference(int regionWidth, int regionHeight, int outWidth, int outHeight, bool flip, int clipX)
    {
        var spec = new OutputSpec(outWidth, outHeight, PixelType.Float32, PixelLayout.Nchw, [0.4f, 0.5f, 0.6f], [0.2f, 0.25f, 0.3f]);
        Assert.SkipUnless(BlockResampler.IsSupported(spec), "The block resampler needs AVX2 and FMA.");

        var random = new Random(regionWidth + outHeight);
        var rowBytes = regionWidth * 3;
        var stride = rowBytes + 7;
        var region = new byte[stride * regionHeight];
        random.NextBytes(region);
        var horizontal = new AxisCoefficients();
        var vertical = new AxisCoefficients();
        horizontal.Compute(clipX + 0.25, regionWidth - clipX - 0.5, outWidth, clipX, regionWidth);
        vertical.Compute(0.5, regionHeight - 1, outHeight, 0, regionHeight);
        var scale = Vector128.Create(1f / (255 * 0.2f), 1f / (255 * 0.25f), 1f / (255 * 0.3f), 0f);
        var bias = Vector128.Create(-2f, -2f, -2f, 0f);
        var sample = new byte[spec.BytesPerSample];

        var block = new BlockResampler();
        block.Begin(rowBytes, horizontal, outWidth);
        var rows = outHeight / BlockResampler.Rows * BlockResampler.Rows;
        for (var y = 0; y < rows; y += BlockResampler.Rows)
        {
            block.Run(region, stride, horizontal.MinIndex * 3, rowBytes, vertical, horizontal, y, flip, scale, bias, spec, sample);
        }

        var output = MemoryMarshal.Cast<byte, float>(sample);
        for (var c = 0; c < 3; c++)
        {
            for (var y = 0; y < outHeight; y++)
            {
                for (var i = 0; i < outWidth; i++)
                {
                    var actual = output[(c * outWidth * outHeight) + (y * outWidth) + i];
                    if (y >= rows)
                    {
                        Assert.Equal(0f, actual); // rows past the last whole block are the caller's to do
                        continue;
                    }

                    var x = flip ? outWidth - 1 - i : i;
                    var expected = (Reference(region, stride, vertical, horizontal, x, y, c) * scale[c]) + bias[c];
                    Assert.True(Math.Abs(expected - actual) < 1e-4, $"c={c} y={y} i={i}: {actual} vs {expected}");
                }
            }
        }
    }

    /// <summary>Non-temporal stores write the same floats as ordinary ones: into a 64-byte aligned destination with rows
    /// of whole lines (the whole-line path), one 32 bytes off or with rows of half lines (the 8-pixel streaming path),
    /// and one 4 bytes off (which must fall back to ordinary stores, not fault).</summary>
    [Theory]
    [InlineData(0, 224)]
    [InlineData(32, 224)] // 32-byte aligned rows that do not start on a line: 8 pixels at a time
    [InlineData(0, 232)]  // whole 8-pixel steps, not whole lines: rows after the first start mid-line
    [InlineData(4, 224)]
    [InlineData(0, 61)] // not whole 8-pixel steps: ordinary stores
    public unsafe void Run_StreamingStores_WriteExactlyWhatOrdinaryStoresWrite(int misalignment, int outWidth)
    {
        var spec = new OutputSpec(outWidth, 32, PixelType.Float32, PixelLayout.Nchw, [0.4f, 0.5f, 0.6f], [0.2f, 0.25f, 0.3f]);
        Assert.SkipUnless(BlockResampler.IsSupported(spec), "The block resampler needs AVX2 and FMA.");
        var random = new Random(misalignment + outWidth);
        const int regionWidth = 300, regionHeight = 200;
        var region = new byte[regionWidth * 3 * regionHeight];
        random.NextBytes(region);
        var horizontal = new AxisCoefficients();
        var vertical = new AxisCoefficients();
        horizontal.Compute(0.25, regionWidth - 0.5, outWidth, 0, regionWidth);
        vertical.Compute(0.5, regionHeight - 1, spec.Height, 0, regionHeight);
        var scale = Vector128.Create(0.01f, 0.02f, 0.03f, 0f);
        var bias = Vector128.Create(-1f, -1.5f, -2f, 0f);

        byte[] Run(Span<byte> destination, bool streaming)
        {
            var block = new BlockResampler { StreamingStores = streaming };
            block.Begin(regionWidth * 3, horizontal, outWidth);
            for (var y = 0; y < spec.Height; y += BlockResampler.Rows)
            {
                block.Run(region, regionWidth * 3, 0, regionWidth * 3, vertical, horizontal, y, true, scale, bias, spec, destination);
            }

            block.FenceStreamingStores();
            return destination.ToArray();
        }

        byte[] ordinary = Run(new byte[spec.BytesPerSample], streaming: false);
        byte* memory = (byte*)NativeMemory.AlignedAlloc((nuint)(spec.BytesPerSample + 64), 64);
        try
        {
            Assert.Equal(ordinary, Run(new Span<byte>(memory + misalignment, spec.BytesPerSample), streaming: true));
        }
        finally
        {
            NativeMemory.AlignedFree(memory);
        }
    }

    [Fact]
    public void Transpose_SwapsRowsAndColumns()
    {
        var a = new Vector256<float>[8];
        for (var r = 0; r < 8; r++)
        {
            a[r] = Vector256.Create(r * 8f, (r * 8) + 1, (r * 8) + 2, (r * 8) + 3, (r * 8) + 4, (r * 8) + 5, (r * 8) + 6, (r * 8) + 7);
        }

        BlockResampler.Transpose(ref a[0], ref a[1], ref a[2], ref a[3], ref a[4], ref a[5], ref a[6], ref a[7]);
        for (var r = 0; r < 8; r++)
        {
            for (var j = 0; j < 8; j++)
            {
                Assert.Equal((j * 8f) + r, a[r][j]);
            }
        }
    }

    private static double Reference(byte[] region, int stride, AxisCoefficients vertical, AxisCoefficients horizontal, int x, int y, int c)
    {
        double sum = 0;
        for (var h = 0; h < horizontal.Count[x]; h++)
        {
            double column = 0;
            for (var v = 0; v < vertical.Count[y]; v++)
            {
                var row = vertical.First[y] + v;
                var pixel = horizontal.First[x] + h;
                column += vertical.Weights[(y * vertical.TapStride) + v] * (double)region[(row * stride) + (pixel * 3) + c];
            }

            sum += horizontal.Weights[(x * horizontal.TapStride) + h] * column;
        }

        return sum;
    }
}
