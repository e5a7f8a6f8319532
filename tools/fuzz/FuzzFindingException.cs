namespace Loader.Tools.Fuzz;

/// <summary>
/// A harness invariant failed: the parser accepted bad input it should have refused, returned something
/// inconsistent, or allocated far more than its input justifies. Never caught by a harness, so AFL records it as a
/// crash and the replay test fails.
/// </summary>
public sealed class FuzzFindingException : Exception
{
    public FuzzFindingException()
    {
    }

    public FuzzFindingException(string message)
        : base(message)
    {
    }

    public FuzzFindingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
