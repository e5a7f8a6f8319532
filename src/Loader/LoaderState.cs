namespace Loader.Pipeline;

/// <summary>
/// Where a loader stands: resuming from this state yields exactly the batches the uninterrupted run would have.
/// </summary>
/// <param name="Seed">The shuffling and augmentation seed.</param>
/// <param name="Epoch">The epoch in progress (0-based).</param>
/// <param name="Position">
/// Positions of the epoch's global order already consumed, by all ranks together (each rank consumes every
/// <c>WorldSize</c>-th position). With one rank this is the number of samples delivered in <paramref name="Epoch"/>.
/// It is the same number on every rank, so any rank's state resumes the whole job, on any world size.
/// </param>
public readonly record struct LoaderState(ulong Seed, int Epoch, long Position);
