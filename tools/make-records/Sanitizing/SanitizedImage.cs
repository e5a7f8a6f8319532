namespace Loader.Tools.MakeRecords.Sanitizing;

/// <summary>What happened to one input: written as it was, re-encoded (and why), transcoded (restart intervals added,
/// same pixels), or skipped (and why).</summary>
internal enum SanitizeStatus
{
    Written,
    Reencoded,

    /// <summary>A passthrough JPEG rewritten losslessly with restart intervals (--restart-interval).</summary>
    Transcoded,
    Skipped,
}

/// <summary>The result of sanitizing one input. <see cref="Jpeg"/> is empty when skipped.</summary>
internal sealed record SanitizedImage(SanitizeStatus Status, string? Reason, ReadOnlyMemory<byte> Jpeg, int Width, int Height,
                                      int Channels)
{
    public static SanitizedImage Skip(string reason) => new(SanitizeStatus.Skipped, reason, ReadOnlyMemory<byte>.Empty, 0, 0, 0);
}
