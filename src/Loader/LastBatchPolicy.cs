namespace Loader.Pipeline;

/// <summary>
/// What happens to the samples that do not fill a whole batch at the end of an epoch (DALI's DROP / PARTIAL / FILL).
/// Every rank always gets the same number of batches.
/// </summary>
public enum LastBatchPolicy
{
    /// <summary>Only full batches; the few samples left over at the end of the epoch are not delivered.</summary>
    Drop,

    /// <summary>The last batch holds what remains. With several ranks and a sample count the world size does not
    /// divide, the shorter ranks are padded by wrapping around the epoch's order (as DALI's <c>pad_last_batch</c>),
    /// so every rank's last batch has the same size.</summary>
    Partial,

    /// <summary>Every batch is full: the last one is completed by wrapping around to the start of the epoch's order.</summary>
    Fill,
}
