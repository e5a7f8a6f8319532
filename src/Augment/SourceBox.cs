namespace Loader.Augment;

/// <summary>
/// A fractional rectangle in source pixels, the <c>box</c> argument of PIL's <c>Image.resize</c>: output pixel i samples
/// the source around <c>X + (i + 0.5) * Width / OutputWidth</c>.
/// </summary>
public readonly record struct SourceBox(double X, double Y, double Width, double Height);
