namespace Loader.Augment;

/// <summary>What a JPEG header says: size in pixels and the number of color components (1 gray, 3 YCbCr/RGB, 4 CMYK).</summary>
public readonly record struct ImageInfo(int Width, int Height, int Components);
