namespace Loader.Augment.Cuda.Reference;

/// <summary>
/// The scalar mirror of <c>augment_batch</c> (Kernels/augment.cu), line for line, in C#: the slow reference the GPU
/// kernel is checked against (ImageSharp style), and the way the kernel's math is tested on machines without a GPU.
/// Produces raw 0..255 values (before normalization) in HWC order.
/// </summary>
internal static class KernelReference
{
    /// <summary>Resamples one sample as the kernel does; <paramref name="source"/> is the decoded region (RGB interleaved, <c>SourcePitch</c> bytes per row).</summary>
    public static void Resample(ReadOnlySpan<byte> source, in GpuSampleParams s, int outWidth, int outHeight, Span<float> hwc)
    {
        for (var oy = 0; oy < outHeight; oy++)
        {
            for (var ox = 0; ox < outWidth; ox++)
            {
                var sx = s.Flip != 0 ? outWidth - 1 - ox : ox;
                var tx = Taps(sx, s.BoxX, s.BoxWidth, outWidth, s.SourceWidth);
                var ty = Taps(oy, s.BoxY, s.BoxHeight, outHeight, s.SourceHeight);
                var sumX = 0f;
                for (var x = tx.First; x < tx.Last; x++)
                {
                    sumX += Triangle((x - tx.Center + 0.5f) * tx.InverseScale);
                }

                float r = 0, g = 0, b = 0, sumY = 0;
                for (var y = ty.First; y < ty.Last; y++)
                {
                    var wy = Triangle((y - ty.Center + 0.5f) * ty.InverseScale);
                    if (wy == 0f)
                    {
                        continue;
                    }

                    sumY += wy;
                    var row = source[(y * s.SourcePitch)..];
                    float rr = 0, gg = 0, bb = 0;
                    for (var x = tx.First; x < tx.Last; x++)
                    {
                        var wx = Triangle((x - tx.Center + 0.5f) * tx.InverseScale);
                        rr += wx * row[3 * x];
                        gg += wx * row[(3 * x) + 1];
                        bb += wx * row[(3 * x) + 2];
                    }

                    r += wy * rr;
                    g += wy * gg;
                    b += wy * bb;
                }

                var norm = sumX > 0 && sumY > 0 ? 1f / (sumX * sumY) : 0f;
                var o = ((oy * outWidth) + ox) * 3;
                hwc[o] = Math.Clamp(r * norm, 0f, 255f);
                hwc[o + 1] = Math.Clamp(g * norm, 0f, 255f);
                hwc[o + 2] = Math.Clamp(b * norm, 0f, 255f);
            }
        }
    }

    private static float Triangle(float x)
    {
        x = Math.Abs(x);
        return x < 1f ? 1f - x : 0f;
    }

    private static (int First, int Last, float Center, float InverseScale) Taps(int i, float boxStart, float boxSize, int outSize, int sourceSize)
    {
        var scale = boxSize / outSize;
        var filterScale = scale < 1f ? 1f : scale;
        var support = filterScale;
        var center = boxStart + ((i + 0.5f) * scale);
        var first = Math.Max((int)(center - support + 0.5f), 0);
        var last = Math.Min((int)(center + support + 0.5f), sourceSize);
        return (first, last, center, 1f / filterScale);
    }
}
