namespace Loader.Pipeline;

/// <summary>
/// A sample that cannot be used: its record fails a CRC check, is malformed or disagrees with the index, its label
/// is outside the data set's classes, its JPEG header claims more than <see cref="LoaderOptions.MaxPixels"/>, or its
/// image does not decode. The loader skips such samples, reports each once and replaces it (or, with
/// <see cref="LoaderOptions.Strict"/>, stops with this error). The message is one line: sample id, shard, record,
/// file, problem.
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
        : base($"sample {sampleId} ({source}): {innerException?.Message}", innerException)
    {
        SampleId = sampleId;
        Problem = innerException?.Message ?? "";
    }

    public BadSampleException(long sampleId, string source, string problem)
        : base($"sample {sampleId} ({source}): {problem}")
    {
        SampleId = sampleId;
        Problem = problem;
    }

    public long SampleId { get; } = -1;

    /// <summary>What is wrong with the sample, without where it is.</summary>
    public string Problem { get; } = "";
}
