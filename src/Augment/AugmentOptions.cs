namespace Loader.Augment;

/// <summary>
/// Random-resized-crop and flip parameters. The defaults are the ImageNet training recipe (torchvision's
/// <c>RandomResizedCrop(224)</c> + <c>RandomHorizontalFlip()</c>) and its evaluation transform
/// (<c>Resize(256)</c> + <c>CenterCrop(224)</c>).
/// </summary>
public sealed record AugmentOptions
{
    public int OutputSize { get; init; } = 224;

    public double ScaleMin { get; init; } = 0.08;

    public double ScaleMax { get; init; } = 1;

    public double RatioMin { get; init; } = 3.0 / 4;

    public double RatioMax { get; init; } = 4.0 / 3;

    public double FlipProbability { get; init; } = 0.5;

    /// <summary>Evaluation: the shorter side is resized to this, then the center <see cref="OutputSize"/> square is cut.</summary>
    public int EvalResize { get; init; } = 256;

    internal void Validate()
    {
        if (OutputSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(OutputSize), OutputSize, "The output size must be positive.");
        }

        if (!(ScaleMin > 0 && ScaleMin <= ScaleMax && ScaleMax <= 1))
        {
            throw new ArgumentException($"The scale range [{ScaleMin}, {ScaleMax}] must satisfy 0 < min <= max <= 1.");
        }

        if (!(RatioMin > 0 && RatioMin <= RatioMax))
        {
            throw new ArgumentException($"The ratio range [{RatioMin}, {RatioMax}] must satisfy 0 < min <= max.");
        }

        if (!(FlipProbability >= 0 && FlipProbability <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(FlipProbability), FlipProbability, "The flip probability must lie in [0, 1].");
        }

        if (EvalResize < OutputSize)
        {
            throw new ArgumentOutOfRangeException(nameof(EvalResize), EvalResize, $"The evaluation resize must be at least the output size ({OutputSize}).");
        }
    }
}
