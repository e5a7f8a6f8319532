namespace Loader.Tools.Bench;

/// <summary>
/// The peers <c>compare</c> measures: the <c>--pipeline</c> names of tools/peers/torchvision_loader.py, each a
/// torch.utils.data.DataLoader doing the same random-resized-crop / resize + center crop, flip and normalize.
/// </summary>
internal static class PeerPipelines
{
    public const string TorchvisionPil = "torchvision-pil";
    public const string TorchvisionIo = "torchvision-io";
    public const string OpenCv = "opencv";

    /// <summary>OpenCV with INTER_LINEAR when shrinking: not antialiased, less work than the others, its fastest set-up.</summary>
    public const string OpenCvLinear = "opencv-linear";

    /// <summary>All of them, in the order the table and the plot show them.</summary>
    public static readonly IReadOnlyList<string> All = [TorchvisionPil, TorchvisionIo, OpenCv, OpenCvLinear];

    /// <summary>What a reader of the table should call each one.</summary>
    public static string Label(string pipeline) => pipeline switch
    {
        TorchvisionPil => "torchvision + PIL",
        TorchvisionIo => "torchvision.io",
        OpenCv => "OpenCV (area)",
        OpenCvLinear => "OpenCV (linear)",
        _ => pipeline,
    };
}
