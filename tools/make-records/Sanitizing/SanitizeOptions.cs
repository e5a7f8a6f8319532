using Loader.Augment.Jpeg;

namespace Loader.Tools.MakeRecords.Sanitizing;

/// <summary>How inputs are checked and, when needed, re-encoded.</summary>
/// <param name="MaxPixels">Skip images whose header claims more pixels (PIL's decompression-bomb limit by default).</param>
/// <param name="MaxSide">Downscale so the longer side is at most this (re-encodes); null keeps the size.</param>
/// <param name="Quality">JPEG quality of re-encoded images.</param>
/// <param name="ApplyExifOrientation">Re-encode JPEGs with an EXIF rotation so they are stored upright. Off by default:
/// TensorFlow's ImageNet script, torchvision and PIL keep such files as they are, so the records stay the data set
/// users compare results against.</param>
internal sealed record SanitizeOptions(long MaxPixels = SanitizeOptions.DefaultMaxPixels, int? MaxSide = null, int Quality = 95,
                                       bool ApplyExifOrientation = false)
{
    /// <summary><c>--restart-interval</c>: off (default) stores JPEGs byte for byte; otherwise every JPEG written,
    /// passthrough or re-encoded, is rewritten losslessly with restart markers (<see cref="RestartTranscoder"/>).</summary>
    public RestartMode Restart { get; init; } = RestartMode.Off;

    /// <summary>PIL's Image.MAX_IMAGE_PIXELS * 2, the size at which it refuses to decode: 178,956,970 pixels.</summary>
    public const long DefaultMaxPixels = Loader.Records.Jpeg.JpegHeader.DefaultMaxPixels;
}
