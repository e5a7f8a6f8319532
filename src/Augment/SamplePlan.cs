namespace Loader.Augment;

/// <summary>
/// What to do to one sample: cut <see cref="Crop"/> from the decoded image, resize it to the output size, flip it
/// horizontally when <see cref="Flip"/> is set. Produced by <see cref="SamplePlanner"/>, consumed by the CPU and GPU
/// decoders alike.
/// </summary>
public readonly record struct SamplePlan(CropWindow Crop, bool Flip, int OutputWidth, int OutputHeight)
{
    /// <summary>
    /// Set only by <see cref="SamplePlanner.PlanEval"/>. torchvision's eval transform (Resize then CenterCrop) samples a
    /// fractional window of the whole image, and its filter may read pixels just outside that window; <see cref="Crop"/>
    /// is then that window rounded to whole pixels (for display and for decoders that want whole pixels). A decoder
    /// that honours <see cref="EvalBox"/> reproduces torchvision exactly; one that uses <see cref="Crop"/> is off by at
    /// most half a source pixel.
    /// </summary>
    public SourceBox? EvalBox { get; init; }
}
