namespace Loader.Augment.Planning;

/// <summary>
/// torchvision's <c>RandomResizedCrop.get_params</c>, line for line, including its float32 draws and Python's
/// round-half-to-even, so that the same draws give the same window.
/// </summary>
internal static class RandomResizedCrop
{
    private const int Attempts = 10;

    public static CropWindow GetParams<TRandom>(int width, int height, AugmentOptions options, ref TRandom random)
        where TRandom : struct, IPlanRandom
    {
        double area = (double)width * height;

        // torch.log(torch.tensor(ratio)): float32 logs.
        var logRatioMin = MathF.Log((float)options.RatioMin);
        var logRatioMax = MathF.Log((float)options.RatioMax);
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var targetArea = area * random.Uniform((float)options.ScaleMin, (float)options.ScaleMax);
            double aspectRatio = MathF.Exp(random.Uniform(logRatioMin, logRatioMax));

            var w = (int)Math.Round(Math.Sqrt(targetArea * aspectRatio), MidpointRounding.ToEven);
            var h = (int)Math.Round(Math.Sqrt(targetArea / aspectRatio), MidpointRounding.ToEven);
            if (w > 0 && w <= width && h > 0 && h <= height)
            {
                var top = random.RandInt(height - h + 1);
                var left = random.RandInt(width - w + 1);
                return new CropWindow(left, top, w, h);
            }
        }

        return CenterFallback(width, height, options);
    }

    /// <summary>After ten misses: the whole image, with its aspect ratio clamped into [RatioMin, RatioMax], centered.</summary>
    public static CropWindow CenterFallback(int width, int height, AugmentOptions options)
    {
        var inRatio = (double)width / height;
        int w, h;
        if (inRatio < options.RatioMin)
        {
            w = width;
            h = (int)Math.Round(w / options.RatioMin, MidpointRounding.ToEven);
        }
        else if (inRatio > options.RatioMax)
        {
            h = height;
            w = (int)Math.Round(h * options.RatioMax, MidpointRounding.ToEven);
        }
        else
        {
            w = width;
            h = height;
        }

        // Python's // floors; (height - h) is never negative here.
        return new CropWindow((width - w) / 2, (height - h) / 2, w, h);
    }
}
