namespace Loader.Augment;

/// <summary>
/// The shape, element type, layout and normalization of a finished sample. <see cref="Mean"/> and <see cref="Std"/>
/// are per channel (R, G, B) in 0..1 units: a float output is <c>(value / 255 - mean) / std</c>. UInt8 outputs are
/// not normalized and must be HWC. The constructor validates; <c>with</c> copies are checked again where they are used.
/// </summary>
public sealed record OutputSpec
{
    public OutputSpec(int Width, int Height, PixelType Type, PixelLayout Layout, float[] Mean, float[] Std)
    {
        ArgumentNullException.ThrowIfNull(Mean);
        ArgumentNullException.ThrowIfNull(Std);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Height);
        if (Mean.Length != Channels || Std.Length != Channels)
        {
            throw new ArgumentException($"Mean and Std need {Channels} values each (R, G, B).");
        }

        if (Array.Exists(Std, s => !(s > 0)))
        {
            throw new ArgumentException("Every Std value must be positive.", nameof(Std));
        }

        if (Type == PixelType.UInt8 && Layout != PixelLayout.Nhwc)
        {
            throw new ArgumentException("UInt8 output is HWC only (normalization and transposition then happen on the GPU).", nameof(Layout));
        }

        this.Width = Width;
        this.Height = Height;
        this.Type = Type;
        this.Layout = Layout;
        this.Mean = Mean;
        this.Std = Std;
    }

    /// <summary>Always 3 (RGB): grayscale and CMYK sources are converted.</summary>
    public const int Channels = 3;

    public int Width { get; init; }

    public int Height { get; init; }

    public PixelType Type { get; init; }

    public PixelLayout Layout { get; init; }

    public float[] Mean { get; init; }

    public float[] Std { get; init; }

    public int BytesPerSample => Width * Height * Channels * BytesPerElement(Type);

    /// <summary>ImageNet's normalization (mean 0.485, 0.456, 0.406; std 0.229, 0.224, 0.225) at the given size.</summary>
    public static OutputSpec ImageNet(int size = 224, PixelType type = PixelType.Float32, PixelLayout layout = PixelLayout.Nchw) =>
        new(size, size, type, layout, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    public static int BytesPerElement(PixelType type) => type switch
    {
        PixelType.Float32 => 4,
        PixelType.Float16 => 2,
        PixelType.BFloat16 => 2,
        PixelType.UInt8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown pixel type."),
    };
}
