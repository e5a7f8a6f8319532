namespace Loader.Augment;

/// <summary>
/// What a <see cref="CpuSampleDecoder"/> decoded so far: samples, how many took the spliced path (only the restart
/// intervals the crop covers), and the entropy-coded bytes those read against the bytes their whole files hold.
/// One decoder per thread: add the statistics of every worker's decoder for a loader-wide figure.
/// </summary>
public record struct SpliceStatistics(long Samples, long SplicedSamples, long SplicedEntropyBytes, long SplicedSourceEntropyBytes)
{
    /// <summary>Fraction of the spliced samples' entropy-coded bytes that went to the decoder (1 when none was spliced).</summary>
    public readonly double SplicedEntropyFraction => SplicedSourceEntropyBytes == 0 ? 1 : (double)SplicedEntropyBytes / SplicedSourceEntropyBytes;

    public static SpliceStatistics operator +(SpliceStatistics a, SpliceStatistics b) =>
        new(a.Samples + b.Samples, a.SplicedSamples + b.SplicedSamples, a.SplicedEntropyBytes + b.SplicedEntropyBytes,
            a.SplicedSourceEntropyBytes + b.SplicedSourceEntropyBytes);
}
