namespace Loader.Augment.Jpeg;

/// <summary>
/// The JPEG reads, but <see cref="RestartTranscoder"/> cannot rewrite it without changing its pixels; the message says
/// why (a progressive file whose first AC coefficients are not all sent, which libjpeg decodes with block smoothing, a
/// step a baseline file cannot ask for). Keep such a file as it is.
/// </summary>
public sealed class LossyTranscodeException : Exception
{
    public LossyTranscodeException()
    {
    }

    public LossyTranscodeException(string message)
        : base(message)
    {
    }

    public LossyTranscodeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
