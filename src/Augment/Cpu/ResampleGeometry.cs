namespace Loader.Augment.Cpu;

/// <summary>
/// Where a plan samples the source, in the coordinates of the DCT-scaled image the decoder will produce: the sampling
/// box (PIL's <c>box</c>) and the clip range the filter may read. Training crops clip to the crop itself (torchvision
/// crops, then resizes); the evaluation box clips to the whole image (torchvision resizes the whole image, then crops).
/// </summary>
internal readonly record struct ResampleGeometry(int ScaleNumerator, int ScaledWidth, int ScaledHeight, SourceBox Box,
    int ClipX, int ClipY, int ClipRight, int ClipBottom)
{
    private static readonly int[] FastScales = [1, 2, 4];

    public static ResampleGeometry Create(in SamplePlan plan, int imageWidth, int imageHeight)
    {
        var crop = plan.Crop;
        if (crop.Width <= 0 || crop.Height <= 0 || crop.X < 0 || crop.Y < 0 || crop.Right > imageWidth || crop.Bottom > imageHeight)
        {
            throw new ArgumentException($"The crop window {crop} does not fit the {imageWidth}x{imageHeight} image.", nameof(plan));
        }

        SourceBox box;
        int clipX, clipY, clipRight, clipBottom;
        if (plan.EvalBox is { } evalBox)
        {
            box = evalBox;
            (clipX, clipY, clipRight, clipBottom) = (0, 0, imageWidth, imageHeight);
        }
        else
        {
            box = new SourceBox(crop.X, crop.Y, crop.Width, crop.Height);
            (clipX, clipY, clipRight, clipBottom) = (crop.X, crop.Y, crop.Right, crop.Bottom);
        }

        // The smallest DCT scale n/8 at which the box still covers the output resolution (no upsampling after a
        // downscaled decode); 8/8 when even the full image is smaller than the output. Only 1/8, 2/8, 4/8 and 8/8:
        // libjpeg-turbo has SIMD inverse DCTs for those alone, and its plain C 7/8..5/8 ones decode slower than 8/8
        // (measured on the ImageNet sample: random-resized-crop decodes 1150 img/s with these four, 1010 with all eight).
        var scale = 8;
        foreach (var n in FastScales)
        {
            if (box.Width * n / 8 >= plan.OutputWidth && box.Height * n / 8 >= plan.OutputHeight)
            {
                scale = n;
                break;
            }
        }

        // libjpeg: output size = ceil(size * n / 8).
        var scaledWidth = ((imageWidth * scale) + 7) / 8;
        var scaledHeight = ((imageHeight * scale) + 7) / 8;
        var fx = (double)scaledWidth / imageWidth;
        var fy = (double)scaledHeight / imageHeight;
        var scaledBox = new SourceBox(box.X * fx, box.Y * fy, box.Width * fx, box.Height * fy);
        return new ResampleGeometry(
            scale,
            scaledWidth,
            scaledHeight,
            scaledBox,
            Math.Clamp((int)Math.Floor(clipX * fx), 0, scaledWidth - 1),
            Math.Clamp((int)Math.Floor(clipY * fy), 0, scaledHeight - 1),
            Math.Clamp((int)Math.Ceiling(clipRight * fx), 1, scaledWidth),
            Math.Clamp((int)Math.Ceiling(clipBottom * fy), 1, scaledHeight));
    }

    /// <summary>Fills both axes' coefficients; their index ranges are then the region to decode.</summary>
    public void Prepare(AxisCoefficients horizontal, AxisCoefficients vertical, int outputWidth, int outputHeight)
    {
        horizontal.Compute(Box.X, Box.Width, outputWidth, ClipX, ClipRight);
        vertical.Compute(Box.Y, Box.Height, outputHeight, ClipY, ClipBottom);
    }
}
