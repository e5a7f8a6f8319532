namespace Loader.Pipeline.Order;

/// <summary>
/// One rank's share of one epoch, from a starting position: which sample goes into which batch.
/// </summary>
/// <remarks>
/// The epoch has one global order (<see cref="EpochPermutation"/>), the same whatever the world size. Starting at
/// global position <c>start</c>, rank <c>r</c> of <c>W</c> takes positions <c>start + j * W + r</c> for
/// <c>j = 0, 1, ...</c>, so consecutive positions go to consecutive ranks and after every rank has taken
/// <c>k</c> samples, exactly the positions <c>[start, start + k * W)</c> are consumed. That is why the state is a
/// single global position, identical on every rank, and why a job can resume on another world size: the new ranks
/// simply share out the positions not yet consumed.
/// <para>
/// Every rank takes the same number of local samples (<see cref="SamplesPerRank"/>), hence the same number of
/// batches. With <c>R</c> positions remaining and batch size <c>B</c>: Drop takes <c>floor(floor(R / W) / B) * B</c>;
/// Partial takes <c>ceil(R / W)</c>; Fill takes <c>ceil(ceil(R / W) / B) * B</c>. Positions at or past the end of
/// the epoch (padding, only for Partial and Fill) wrap around: position <c>p</c> delivers sample
/// <c>order[p mod N]</c>.
/// </para>
/// </remarks>
internal sealed class EpochPlan
{
    /// <summary>Candidates from the following batches tried before a replacement may repeat a sample of the batch.</summary>
    public const int DistinctReplacementAttempts = 64;

    private readonly EpochPermutation _order;

    public EpochPlan(EpochPermutation order, int epoch, long start, int rank, int worldSize, int batchSize, LastBatchPolicy policy)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(worldSize);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, worldSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);

        _order = order;
        Epoch = epoch;
        Start = start;
        Rank = rank;
        WorldSize = worldSize;
        BatchSize = batchSize;
        Policy = policy;

        long remaining = Math.Max(0, order.Count - start);
        long perRankCeil = (remaining + worldSize - 1) / worldSize;
        SamplesPerRank = policy switch
        {
            LastBatchPolicy.Drop => remaining / worldSize / batchSize * batchSize,
            LastBatchPolicy.Partial => perRankCeil,
            LastBatchPolicy.Fill => (perRankCeil + batchSize - 1) / batchSize * batchSize,
            _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "Unknown last-batch policy."),
        };
        BatchCount = checked((int)((SamplesPerRank + batchSize - 1) / batchSize));
    }

    public int Epoch { get; }

    /// <summary>The global position this plan starts at (positions before it were consumed earlier).</summary>
    public long Start { get; }

    public int Rank { get; }

    public int WorldSize { get; }

    public int BatchSize { get; }

    public LastBatchPolicy Policy { get; }

    /// <summary>Samples in the whole epoch (the data set size).</summary>
    public long EpochLength => _order.Count;

    /// <summary>Samples this rank delivers from <see cref="Start"/> to the end of the epoch.</summary>
    public long SamplesPerRank { get; }

    public int BatchCount { get; }

    public int BatchLength(int batch) =>
        (int)Math.Min(BatchSize, SamplesPerRank - ((long)batch * BatchSize));

    /// <summary>The global position of local sample <paramref name="index"/> of <paramref name="batch"/>.</summary>
    public long GlobalPosition(int batch, int index) =>
        Start + ((((long)batch * BatchSize) + index) * WorldSize) + Rank;

    /// <summary>The global position the batch starts at; also the state's position before it is consumed.</summary>
    public long BatchStartPosition(int batch) => Start + ((long)batch * BatchSize * WorldSize);

    /// <summary>The sample at a global position; positions past the end of the epoch wrap around.</summary>
    public long SampleAt(long globalPosition) => _order[globalPosition % _order.Count];

    public long SampleId(int batch, int index) => SampleAt(GlobalPosition(batch, index));

    /// <summary>The loader's state once the consumer has taken <paramref name="batch"/>.</summary>
    public LoaderState StateAfter(int batch, ulong seed) =>
        batch + 1 >= BatchCount
            ? new LoaderState(seed, Epoch + 1, 0)
            : new LoaderState(seed, Epoch, BatchStartPosition(batch + 1));

    /// <summary>
    /// The global position of replacement number <paramref name="attempt"/> (1, 2, ...) for the sample at local
    /// <paramref name="index"/> of <paramref name="batch"/>: the same slot of the following batches of this rank,
    /// i.e. <c>attempt * B * W</c> positions further on. Distinct slots get distinct candidates (they differ modulo
    /// <c>B * W</c>), so replacements do not collide with each other nor with the batch's own positions, and the
    /// choice depends on nothing but the plan: not on threads, timing or which other samples were bad.
    /// </summary>
    public long ReplacementPosition(int batch, int index, int attempt) =>
        GlobalPosition(batch, index) + ((long)attempt * BatchSize * WorldSize);

    /// <summary>
    /// Replacement candidate number <paramref name="attempt"/> (1, 2, ...) for the sample at local
    /// <paramref name="index"/> of <paramref name="batch"/>, or -1 when that candidate is not allowed. The first
    /// <see cref="DistinctReplacementAttempts"/> candidates are the same slot of the following batches (see
    /// <see cref="ReplacementPosition"/>), skipping the batch's own <paramref name="planned"/> ids, so that a batch
    /// holds distinct samples; after them the candidates walk the whole epoch order from the slot's position on,
    /// repeats allowed, so that any data set with one good record still fills its batches (a batch as large as the
    /// data set has no distinct candidate at all). Shared by the CPU and GPU executors.
    /// </summary>
    /// <exception cref="InvalidDataException">Every candidate of the epoch has been tried: no record is usable.</exception>
    public long ReplacementCandidate(int batch, int index, int attempt, ReadOnlySpan<long> planned)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(attempt);
        if (attempt <= DistinctReplacementAttempts)
        {
            long candidate = SampleAt(ReplacementPosition(batch, index, attempt));
            return planned.Contains(candidate) ? -1 : candidate;
        }

        long step = attempt - DistinctReplacementAttempts;
        if (step >= EpochLength)
        {
            throw new InvalidDataException(
                $"No usable replacement for sample {planned[index]}: every one of the {EpochLength} records of the data set is bad.");
        }

        return SampleAt(GlobalPosition(batch, index) + step);
    }
}
