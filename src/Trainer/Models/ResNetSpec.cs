namespace Loader.Trainer.Models;

public enum BlockKind
{
    Basic,
    Bottleneck,
}

/// <summary>
/// One member of the ResNet family. <see cref="SmallInputStem"/> swaps the 7x7/2 convolution and max pool for a 3x3/1
/// convolution (CIFAR-style), for 28-64 pixel images; parameter names stay torchvision's.
/// </summary>
public sealed record ResNetSpec(string Name, BlockKind Block, int[] Layers, int BaseWidth = 64, bool SmallInputStem = false)
{
    public int Expansion => Block == BlockKind.Bottleneck ? 4 : 1;

    public static IReadOnlyList<string> Names { get; } =
        ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnet-tiny", "resnet18-small"];

    /// <summary>torchvision's members, plus two small ones for CPU work.</summary>
    public static ResNetSpec Parse(string name) => name.ToLowerInvariant() switch
    {
        "resnet18" => new(name, BlockKind.Basic, [2, 2, 2, 2]),
        "resnet34" => new(name, BlockKind.Basic, [3, 4, 6, 3]),
        "resnet50" => new(name, BlockKind.Bottleneck, [3, 4, 6, 3]),
        "resnet101" => new(name, BlockKind.Bottleneck, [3, 4, 23, 3]),
        "resnet152" => new(name, BlockKind.Bottleneck, [3, 8, 36, 3]),
        // One basic block per stage at a quarter of the width, small stem: about 0.7 M parameters.
        "resnet-tiny" => new(name, BlockKind.Basic, [1, 1, 1, 1], BaseWidth: 16, SmallInputStem: true),
        // ResNet-18 at half width with the small stem: about 2.8 M parameters.
        "resnet18-small" => new(name, BlockKind.Basic, [2, 2, 2, 2], BaseWidth: 32, SmallInputStem: true),
        _ => throw new ArgumentException($"--arch {name}: unknown; expected one of {string.Join(", ", Names)}."),
    };
}
