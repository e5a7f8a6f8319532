using System.Numerics;
using System.Runtime.InteropServices;

namespace Loader.Augment.Cuda.Reference;

/// <summary>Compares finished samples in pixel units (0..255, before normalization), whatever their element type and layout.</summary>
internal static class SampleComparison
{
    /// <summary>Converts one finished sample back to HWC values in 0..255: undoes the normalization and the layout.</summary>
    public static float[] ToPixels(ReadOnlySpan<byte> sample, OutputSpec spec)
    {
        var plane = spec.Width * spec.Height;
        var pixels = new float[plane * 3];
        for (var i = 0; i < plane; i++)
        {
            for (var c = 0; c < 3; c++)
            {
                var element = spec.Layout == PixelLayout.Nchw ? (c * plane) + i : (i * 3) + c;
                float value = spec.Type switch
                {
                    PixelType.Float32 => MemoryMarshal.Cast<byte, float>(sample)[element],
                    PixelType.Float16 => (float)MemoryMarshal.Cast<byte, Half>(sample)[element],
                    PixelType.BFloat16 => BitConverter.UInt32BitsToSingle((uint)MemoryMarshal.Cast<byte, ushort>(sample)[element] << 16),
                    _ => sample[element],
                };
                pixels[(i * 3) + c] = spec.Type == PixelType.UInt8 ? value : ((value * spec.Std[c]) + spec.Mean[c]) * 255f;
            }
        }

        return pixels;
    }

    public static float MaxAbsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var worst = 0f;
        for (var i = 0; i < a.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        }

        return worst;
    }

    /// <summary>Peak signal-to-noise ratio in dB for 8-bit images (infinity when identical), pixels as 0..255 floats.</summary>
    public static double Psnr(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => PsnrOf(a, b);

    /// <summary>Peak signal-to-noise ratio in dB for 8-bit images (infinity when identical).</summary>
    public static double Psnr(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => PsnrOf(a, b);

    private static double PsnrOf<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : INumberBase<T>
    {
        double squared = 0;
        for (var i = 0; i < a.Length; i++)
        {
            var d = double.CreateTruncating(a[i]) - double.CreateTruncating(b[i]);
            squared += d * d;
        }

        var mse = squared / a.Length;
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    /// <summary>The slack one element type adds on top of the 2/255 tolerance: half an ulp of the largest normalized value, in pixel units.</summary>
    public static float QuantizationSlack(OutputSpec spec) => spec.Type switch
    {
        PixelType.Float16 => 3f * (1f / 1024) * spec.Std.Max() * 255f,   // values up to ~2.7: ulp 2^-9, both sides round
        PixelType.BFloat16 => 3f * (1f / 128) * spec.Std.Max() * 255f,   // ulp 2^-6 near 2.7
        _ => 0f,
    };
}
