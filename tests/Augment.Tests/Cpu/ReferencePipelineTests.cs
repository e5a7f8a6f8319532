using Loader.Augment.Interop;

namespace Loader.Augment.Tests.Cpu;

/// <summary>
/// The whole CPU pipeline against a slow reference written here from PIL's description (full decode, triangle filter
/// with support = downscale factor, taps clipped to the crop and renormalized, separable, double precision): the
/// fast path may differ only by float rounding. Covers odd output sizes (the row-pair loop's tail) and non-square ones.
/// </summary>
public sealed class ReferencePipelineTests
{
    [Theory]
    [InlineData("n03196217_digital_clock.JPEG", 37, 21, 120, 100, false, 63, 63)]
    [InlineData("n03196217_digital_clock.JPEG", 0, 0, 100, 60, true, 97, 45)]
    [InlineData("n02815834_beaker.JPEG", 10, 5, 300, 200, true, 161, 101)]
    [InlineData("tiny_1x1.jpg", 0, 0, 1, 1, false, 3, 5)]
    public void Process_MatchesScalarReference(string file, int x, int y, int w, int h, bool flip, int outWidth, int outHeight)
    {
        var jpeg = Fixture.ImageBytes(file);
        using var decoder = new CpuSampleDecoder();
        var info = decoder.ReadHeader(jpeg);
        var full = DecodeFull(jpeg, info);
        var plan = new SamplePlan(new CropWindow(x, y, w, h), flip, outWidth, outHeight);

        // Full-scale decodes only (the reference cannot model DCT scaling): every crop here is under twice the output
        // in some direction, so no 4/8 decode covers it.
        var spec = new OutputSpec(outWidth, outHeight, PixelType.Float32, PixelLayout.Nhwc, [0, 0, 0], [1, 1, 1]);
        var actual = new byte[spec.BytesPerSample];
        decoder.Process(jpeg, plan, spec, actual);
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(actual);

        var expected = Reference(full, info.Width, plan);
        for (var i = 0; i < expected.Length; i++)
        {
            // Float32 with mean 0, std 1 is value / 255.
            Assert.True(Math.Abs((expected[i] / 255) - values[i]) < 1e-4, $"[{i}] {values[i] * 255} vs {expected[i]}");
        }
    }

    private static double[] Reference(byte[] rgb, int imageWidth, SamplePlan plan)
    {
        var c = plan.Crop;
        var (xFirst, xWeights) = Coefficients(c.X, c.Width, plan.OutputWidth);
        var (yFirst, yWeights) = Coefficients(c.Y, c.Height, plan.OutputHeight);
        var result = new double[plan.OutputWidth * plan.OutputHeight * 3];
        for (var oy = 0; oy < plan.OutputHeight; oy++)
        {
            for (var ox = 0; ox < plan.OutputWidth; ox++)
            {
                var dx = plan.Flip ? plan.OutputWidth - 1 - ox : ox;
                for (var ch = 0; ch < 3; ch++)
                {
                    double sum = 0;
                    for (var ty = 0; ty < yWeights[oy].Length; ty++)
                    {
                        for (var tx = 0; tx < xWeights[ox].Length; tx++)
                        {
                            sum += yWeights[oy][ty] * xWeights[ox][tx] * rgb[((((yFirst[oy] + ty) * imageWidth) + xFirst[ox] + tx) * 3) + ch];
                        }
                    }

                    result[(((oy * plan.OutputWidth) + dx) * 3) + ch] = sum;
                }
            }
        }

        return result;
    }

    /// <summary>PIL's precompute_coeffs for the bilinear filter over [start, start + length), clipped to the same range.</summary>
    private static (int[] First, double[][] Weights) Coefficients(int start, int length, int outputLength)
    {
        var scale = (double)length / outputLength;
        var support = Math.Max(scale, 1.0);
        var first = new int[outputLength];
        var weights = new double[outputLength][];
        for (var i = 0; i < outputLength; i++)
        {
            var center = start + ((i + 0.5) * scale);
            var lo = Math.Max((int)(center - support + 0.5), start);
            var hi = Math.Min((int)(center + support + 0.5), start + length);
            var w = Enumerable.Range(lo, hi - lo).Select(k => Math.Max(0, 1 - Math.Abs((k - center + 0.5) / support))).ToArray();
            var total = w.Sum();
            weights[i] = w.Select(v => v / total).ToArray();
            first[i] = lo;
        }

        return (first, weights);
    }

    private static unsafe byte[] DecodeFull(byte[] jpeg, ImageInfo info)
    {
        using var handle = LibLoaderJpeg.Create();
        var pixels = new byte[info.Width * info.Height * 3];
        var message = new byte[256];
        fixed (byte* data = jpeg)
        fixed (byte* output = pixels)
        fixed (byte* m = message)
        {
            var rc = LibLoaderJpeg.DecodeRegion(handle, data, (nuint)jpeg.Length, 0, 8, 0, 0, info.Width, info.Height, output,
                (nuint)(info.Width * 3), (nuint)pixels.Length, out _, out _, out _, m, message.Length);
            Assert.Equal(0, rc);
        }

        return pixels;
    }
}
