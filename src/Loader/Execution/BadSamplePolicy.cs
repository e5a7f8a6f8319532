using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Loader.Pipeline.Order;

namespace Loader.Pipeline.Execution;

/// <summary>One attempt at one sample: loads it into its place, or throws <see cref="BadSampleException"/>.</summary>
internal interface ISampleAttempt
{
    /// <summary>Loads <paramref name="sampleId"/>; throws <see cref="BadSampleException"/> when it is unusable.</summary>
    void Load(long sampleId);
}

/// <summary>
/// The one bad-sample policy of every loader (CPU and GPU): a sample that fails in any way a sample can fail
/// (see <see cref="BadSampleException"/>) is reported once, counted, and replaced by the plan's deterministic rule
/// (<see cref="EpochPlan.ReplacementCandidate"/>); with <see cref="LoaderOptions.Strict"/> the first one stops the run.
/// </summary>
/// <remarks>
/// The replacement is the first good candidate of a sequence that depends on the plan alone, so it is the same
/// whatever the threads, their timing, or which bad samples other threads have already met: knowing a sample is
/// bad only saves loading it again. The known-bad set is read on every sample: its fast path is one volatile read
/// while no sample has been bad (a ConcurrentDictionary's IsEmpty would take all its locks).
/// </remarks>
internal sealed class BadSamplePolicy(LoaderMetrics metrics, Action<string> log, bool strict)
{
    private readonly ConcurrentDictionary<long, byte> _bad = new();
    private int _badCount;

    public bool Strict => strict;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsKnownBad(long sampleId) => Volatile.Read(ref _badCount) != 0 && _bad.ContainsKey(sampleId);

    /// <summary>
    /// Delivers the sample planned at <paramref name="index"/> of <paramref name="batch"/> through
    /// <paramref name="attempt"/>, or its replacement if it is bad; returns the id delivered.
    /// </summary>
    public long Deliver<TAttempt>(EpochPlan plan, int batch, int index, ReadOnlySpan<long> planned, ref TAttempt attempt)
        where TAttempt : struct, ISampleAttempt
    {
        int tries = 0;
        return Deliver(plan, batch, index, planned, ref tries, ref attempt);
    }

    /// <summary>
    /// <see cref="Deliver{TAttempt}(EpochPlan, int, int, ReadOnlySpan{long}, ref TAttempt)"/> keeping the count of
    /// replacement candidates tried in <paramref name="tries"/>, so that a later failure of the delivered sample
    /// (<see cref="Replace"/>) continues the same sequence.
    /// </summary>
    public long Deliver<TAttempt>(EpochPlan plan, int batch, int index, ReadOnlySpan<long> planned, ref int tries,
                                  ref TAttempt attempt)
        where TAttempt : struct, ISampleAttempt =>
        DeliverFrom(planned[index], plan, batch, index, planned, ref tries, ref attempt);

    /// <summary>
    /// A delivered sample turned out bad later (the GPU decoder and its CPU fallback both rejected it): reports it
    /// once and delivers the next good candidate of the same deterministic sequence through
    /// <paramref name="attempt"/>; with <see cref="Strict"/> throws <paramref name="failure"/> instead.
    /// </summary>
    public long Replace<TAttempt>(EpochPlan plan, int batch, int index, ReadOnlySpan<long> planned, BadSampleException failure,
                                  ref int tries, ref TAttempt attempt)
        where TAttempt : struct, ISampleAttempt
    {
        if (strict)
        {
            throw failure;
        }

        Report(failure.SampleId, failure);
        metrics.SampleSkipped();
        return DeliverFrom(NextCandidate(plan, batch, index, planned, ref tries), plan, batch, index, planned, ref tries, ref attempt);
    }

    private long DeliverFrom<TAttempt>(long sampleId, EpochPlan plan, int batch, int index, ReadOnlySpan<long> planned,
                                       ref int tries, ref TAttempt attempt)
        where TAttempt : struct, ISampleAttempt
    {
        while (true)
        {
            if (!IsKnownBad(sampleId))
            {
                try
                {
                    attempt.Load(sampleId);
                    return sampleId;
                }
                catch (BadSampleException e) when (!strict)
                {
                    Report(sampleId, e);
                }
            }

            metrics.SampleSkipped();
            sampleId = NextCandidate(plan, batch, index, planned, ref tries);
        }
    }

    /// <summary>Logs and counts a bad sample, once per sample.</summary>
    public void Report(long sampleId, BadSampleException error)
    {
        if (_bad.TryAdd(sampleId, 0))
        {
            Interlocked.Increment(ref _badCount);
            metrics.BadRecordFound();
            log($"loader: skipping bad sample {error.Message}; a later sample of the epoch's order replaces it");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long NextCandidate(EpochPlan plan, int batch, int index, ReadOnlySpan<long> planned, ref int tries)
    {
        long candidate;
        do
        {
            candidate = plan.ReplacementCandidate(batch, index, ++tries, planned);
        }
        while (candidate < 0);
        return candidate;
    }
}
