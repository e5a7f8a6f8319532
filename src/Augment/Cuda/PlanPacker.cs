namespace Loader.Augment.Cuda;

/// <summary>
/// Turns the shared sample plans (the same <see cref="SamplePlan"/>s the CPU path consumes) and where each decoded
/// region landed on the device into the kernel's parameters. Pure: unit-tested without a GPU.
/// </summary>
internal static class PlanPacker
{
    /// <summary>
    /// The parameters of one sample. <paramref name="region"/> is the part of the image that was decoded (the crop
    /// window for a region-of-interest decode, the whole image otherwise), in image pixels; the kernel samples the
    /// plan's box relative to it and clamps its taps to it. A train plan samples exactly its crop (torchvision crops,
    /// then resizes); an eval plan samples its fractional <see cref="SamplePlan.EvalBox"/>.
    /// </summary>
    public static GpuSampleParams Pack(in SamplePlan plan, CropWindow region, nint pixels, int pitch)
    {
        var box = plan.EvalBox ?? new SourceBox(plan.Crop.X, plan.Crop.Y, plan.Crop.Width, plan.Crop.Height);
        if (box.X < region.X - 1e-6 || box.Y < region.Y - 1e-6 || box.X + box.Width > region.Right + 1e-6 || box.Y + box.Height > region.Bottom + 1e-6)
        {
            throw new ArgumentException($"The sampled box {box} lies outside the decoded region {region}.", nameof(region));
        }

        return ForBox(box, region, plan.Flip, pixels, pitch);
    }

    /// <summary>
    /// The parameters for sampling <paramref name="box"/> out of <paramref name="region"/> (both in the same pixel
    /// coordinates: the image's, or a DCT-scaled decode's), unchecked: <see cref="Pack"/> checks the box first.
    /// </summary>
    public static GpuSampleParams ForBox(SourceBox box, CropWindow region, bool flip, nint pixels, int pitch) => new()
    {
        Source = (ulong)pixels,
        SourcePitch = pitch,
        SourceWidth = region.Width,
        SourceHeight = region.Height,
        Flip = flip ? 1 : 0,
        BoxX = (float)(box.X - region.X),
        BoxY = (float)(box.Y - region.Y),
        BoxWidth = (float)box.Width,
        BoxHeight = (float)box.Height,
    };

    /// <summary>A slot the CPU fallback already filled: the kernel leaves it alone.</summary>
    public static GpuSampleParams Skipped() => new() { Skip = 1 };

    /// <summary>The batch-wide argument: output pointer and stride, shape, element type, layout and normalization folded into scale and bias.</summary>
    public static GpuBatchParams PackBatch(OutputSpec spec, int count, nint samples, nint output)
    {
        var batch = new GpuBatchParams
        {
            Samples = (ulong)samples,
            Output = (ulong)output,
            SampleStride = spec.BytesPerSample,
            Count = count,
            OutWidth = spec.Width,
            OutHeight = spec.Height,
            PixelType = (int)spec.Type,
            Layout = (int)spec.Layout,
        };
        for (var c = 0; c < OutputSpec.Channels; c++)
        {
            // (v / 255 - mean) / std  ==  v * (1 / (255 std)) + (-mean / std); uint8 is not normalized.
            batch.Scale[c] = spec.Type == PixelType.UInt8 ? 1f : 1f / (255f * spec.Std[c]);
            batch.Bias[c] = spec.Type == PixelType.UInt8 ? 0f : -spec.Mean[c] / spec.Std[c];
        }

        return batch;
    }
}
