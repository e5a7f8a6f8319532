using Loader.Augment.Planning;

namespace Loader.Augment;

/// <summary>
/// Decides each sample's crop window and flip. Pure and thread-safe: a training plan depends only on (seed, epoch,
/// sample id) and the image size, so any worker can plan any sample in any order and get the same answer, and the CPU
/// and GPU decoders share it.
/// </summary>
public sealed class SamplePlanner
{
    private readonly AugmentOptions _options;

    public SamplePlanner(AugmentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    public AugmentOptions Options => _options;

    /// <summary>torchvision's <c>RandomResizedCrop</c> then <c>RandomHorizontalFlip</c>, drawn from a per-sample stream.</summary>
    public SamplePlan PlanTrain(ulong seed, int epoch, long sampleId, int imageWidth, int imageHeight)
    {
        ThrowIfBadSize(imageWidth, imageHeight);
        var random = new CounterRandom(seed, epoch, sampleId);
        return PlanTrain(ref random, imageWidth, imageHeight);
    }

    internal SamplePlan PlanTrain<TRandom>(ref TRandom random, int imageWidth, int imageHeight)
        where TRandom : struct, IPlanRandom
    {
        var crop = RandomResizedCrop.GetParams(imageWidth, imageHeight, _options, ref random);

        // RandomHorizontalFlip: torch.rand(1) < p.
        var flip = random.Uniform(0f, 1f) < _options.FlipProbability;
        return new SamplePlan(crop, flip, _options.OutputSize, _options.OutputSize);
    }

    /// <summary>
    /// torchvision's <c>Resize(EvalResize)</c> then <c>CenterCrop(OutputSize)</c>, expressed on the source image: the
    /// resize maps output pixel x of the resized image to source <c>(x + 0.5) * W / W' - 0.5</c>, so the center crop is
    /// the fractional source box <c>[left * W / W', (left + size) * W / W')</c> (likewise vertically), sampled with
    /// the whole image in reach of the filter. <see cref="SamplePlan.Crop"/> is that box rounded to the nearest
    /// whole pixels (half to even), clamped to the image.
    /// </summary>
    public SamplePlan PlanEval(int imageWidth, int imageHeight)
    {
        ThrowIfBadSize(imageWidth, imageHeight);
        var size = _options.OutputSize;
        var resize = _options.EvalResize;

        // torchvision's _compute_resized_output_size: short side -> resize, long side -> int(resize * long / short).
        int resizedWidth, resizedHeight;
        var shortSide = Math.Min(imageWidth, imageHeight);
        var longSide = Math.Max(imageWidth, imageHeight);
        if (shortSide == resize)
        {
            resizedWidth = imageWidth;
            resizedHeight = imageHeight;
        }
        else
        {
            var newLong = (int)((double)resize * longSide / shortSide);
            (resizedWidth, resizedHeight) = imageWidth <= imageHeight ? (resize, newLong) : (newLong, resize);
        }

        // CenterCrop: int(round((resized - size) / 2.0)), half to even like Python.
        var top = (int)Math.Round((resizedHeight - size) / 2.0, MidpointRounding.ToEven);
        var left = (int)Math.Round((resizedWidth - size) / 2.0, MidpointRounding.ToEven);

        var scaleX = (double)imageWidth / resizedWidth;
        var scaleY = (double)imageHeight / resizedHeight;
        var box = new SourceBox(left * scaleX, top * scaleY, size * scaleX, size * scaleY);
        return new SamplePlan(RoundToPixels(box, imageWidth, imageHeight), Flip: false, size, size) { EvalBox = box };
    }

    private static CropWindow RoundToPixels(SourceBox box, int imageWidth, int imageHeight)
    {
        var x = Math.Clamp((int)Math.Round(box.X, MidpointRounding.ToEven), 0, imageWidth - 1);
        var y = Math.Clamp((int)Math.Round(box.Y, MidpointRounding.ToEven), 0, imageHeight - 1);
        var right = Math.Clamp((int)Math.Round(box.X + box.Width, MidpointRounding.ToEven), x + 1, imageWidth);
        var bottom = Math.Clamp((int)Math.Round(box.Y + box.Height, MidpointRounding.ToEven), y + 1, imageHeight);
        return new CropWindow(x, y, right - x, bottom - y);
    }

    private static void ThrowIfBadSize(int imageWidth, int imageHeight)
    {
        if (imageWidth <= 0 || imageHeight <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(imageWidth), $"The image size {imageWidth}x{imageHeight} must be positive.");
        }
    }
}
