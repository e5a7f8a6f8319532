namespace Loader.Pipeline;

/// <summary>
/// A sample that cannot be used: its record failed a CRC check or is malformed, or its image does not decode.
/// The loader skips such samples (or, with <see cref="LoaderOptions.Strict"/>, stops with this error).
/// </summary>
public sealed class BadSampleException : Exception
{
    public BadSampleException()
    {
    }

    public BadSampleException(string message)
        : base(message)
    {
    }

    public BadSampleException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public BadSampleException(long sampleId, string source, Exception innerException)
        : base($"sample {sampleId} ({source}) is unusable: {innerException?.Message}", innerException)
    {
        SampleId = sampleId;
    }

    public long SampleId { get; } = -1;
}
