using System.Globalization;
using Loader.Trainer.Distributed;
using Loader.Trainer.Precision;
using static TorchSharp.torch;

namespace Loader.Trainer.Training;

/// <summary>
/// Stops a run whose loss is not finite, without a host sync per step: each counted step's loss is checked on the
/// device, the first bad step number kept there, and read back where the session syncs anyway (log interval, epoch
/// end, checkpoint). Under fp16 loss scaling the scaler's skip comes first: a skipped step whose loss is not finite is
/// left out of the epoch's mean, and only a loss that stays non-finite for <see cref="SessionOptions.NonFiniteLossPatience"/>
/// steps in a row, or a loss scale that collapses, stops the run.
/// Data parallel: every decision is taken by all ranks together (a non-finite loss on one rank stops every rank at
/// the same step, with the same message), so no rank goes on into a collective that the others left.
/// </summary>
internal sealed class DivergenceGuard : IDisposable
{
    /// <summary>Below fp16's smallest subnormal (2^-24) a scaled gradient is zero: the scaler can no longer help.</summary>
    public const double MinimumLossScale = 1.0 / (1 << 24);

    private readonly Tensor _firstBadStep;
    private readonly int _patience;
    private readonly DataParallel? _parallel;
    private int _nonFiniteStreak;

    public DivergenceGuard(Device device, int patience, DataParallel? parallel = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patience, 1);
        _firstBadStep = full(1, -1L, ScalarType.Int64, device);
        _patience = patience;
        _parallel = parallel is { WorldSize: > 1 } ? parallel : null;
    }

    /// <summary>Where the run can go back to: set when a checkpoint is written or resumed from.</summary>
    public string? LastGoodCheckpoint { get; set; }

    /// <summary>Records <paramref name="step"/> (1-based global step) if its loss is the first non-finite one. No sync.</summary>
    public void Track(Tensor loss, long step)
    {
        using var scope = NewDisposeScope();
        Tensor isBad = loss.isfinite().all().logical_not().logical_and(_firstBadStep.lt(0));
        _firstBadStep.masked_fill_(isBad, step);
    }

    /// <summary>One host sync: throws when a tracked loss was not finite (data parallel: on any rank, on every rank).
    /// Every rank must call it at the same points (the session's read-backs and epoch ends).</summary>
    public void ThrowIfDiverged(int epoch)
    {
        long step = _firstBadStep.item<long>();
        if (_parallel is null)
        {
            ThrowIfBad(step, epoch);
            return;
        }
        // The earliest bad step over ranks, then the lowest rank that had it: every rank names the same step and rank.
        Span<long> first = [step >= 0 ? step : long.MaxValue];
        _parallel.Communicator.AllReduce(first, ReduceOperation.Min);
        if (first[0] == long.MaxValue) return;
        Span<long> rank = [step == first[0] ? _parallel.Rank : long.MaxValue];
        _parallel.Communicator.AllReduce(rank, ReduceOperation.Min);
        throw Diverged(string.Create(CultureInfo.InvariantCulture,
            $"step {first[0]} (epoch {epoch + 1}): the loss is not finite (NaN or infinity) on rank {rank[0]} of {_parallel.WorldSize}"));
    }

    /// <summary>This rank's own losses only, no collective: for what one rank does alone (rank 0's checkpoint), after
    /// the ranks have agreed through <see cref="ThrowIfDiverged"/> (the epoch's end or a stop comes first).</summary>
    public void ThrowIfDivergedHere(int epoch) => ThrowIfBad(_firstBadStep.item<long>(), epoch);

    private void ThrowIfBad(long step, int epoch)
    {
        if (step >= 0)
            throw Diverged(string.Create(CultureInfo.InvariantCulture, $"step {step} (epoch {epoch + 1}): the loss is not finite (NaN or infinity)"));
    }

    /// <summary>
    /// After the scaler skipped a step (its gradients were not finite). Returns whether the step's loss counts in the
    /// epoch's mean (it does when finite; data parallel: when finite on every rank, so that every rank counts the same
    /// steps). The host has synced already (the scaler read its overflow flag).
    /// </summary>
    public bool OnSkippedStep(Tensor loss, DynamicLossScaler scaler, int epoch, long step)
    {
        bool finite = loss.isfinite().all().item<bool>();
        if (_parallel is not null) finite = !_parallel.AnyRank(!finite);
        _nonFiniteStreak = finite ? 0 : _nonFiniteStreak + 1;
        if (_nonFiniteStreak >= _patience)
            throw Diverged(string.Create(CultureInfo.InvariantCulture,
                $"step {step} (epoch {epoch + 1}): the fp16 loss was not finite on {_nonFiniteStreak} steps in a row (each skipped by the loss scaler, now at {scaler.Scale:G3})"));
        if (scaler.Scale < MinimumLossScale)
            throw Diverged(string.Create(CultureInfo.InvariantCulture,
                $"step {step} (epoch {epoch + 1}): the fp16 loss scale fell to {scaler.Scale:G3} after {scaler.SkippedSteps} skipped steps; the gradients overflow at any scale"));
        return finite;
    }

    /// <summary>A step the scaler took: its loss, finite or not, counts (and is tracked).</summary>
    public void OnTakenStep() => _nonFiniteStreak = 0;

    /// <summary>Throws unless every floating-point tensor is finite: diverged weights must never replace a checkpoint.
    /// Local: data parallel keeps the replicas equal (checked at every epoch's end), and only rank 0 checkpoints.</summary>
    public void EnsureFinite(IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        using var scope = NewDisposeScope();
        List<(string Name, Tensor Finite)> checks = [];
        foreach ((string name, Tensor tensor) in tensors)
            if (tensor.is_floating_point()) checks.Add((name, tensor.isfinite().all()));
        if (checks.Count == 0) return;
        // One sync for all of them; the names only on failure.
        if (stack(checks.Select(c => c.Finite).ToArray()).all().item<bool>()) return;
        string bad = checks.First(c => !c.Finite.item<bool>()).Name;
        throw Diverged($"{bad} holds NaN or infinity, so it cannot be checkpointed");
    }

    private TrainingDivergedException Diverged(string what) => new(
        $"{what}: training diverged (try a lower --lr). " +
        (LastGoodCheckpoint is null ? "No checkpoint was written before it." : $"The last good checkpoint is {LastGoodCheckpoint}, left as it was."));

    public void Dispose() => _firstBadStep.Dispose();
}
