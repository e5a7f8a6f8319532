namespace Loader.Trainer.Recipe;

/// <summary>
/// Linear warmup then cosine decay to <see cref="EndRate"/>, evaluated per optimizer step (NVIDIA's recipe evaluates
/// the same curve per epoch; per step is smoother and equal at epoch boundaries after warmup).
/// Warmup: lr(t) = base * (t + 1) / W for t &lt; W. Decay: lr(t) = end + (base - end) * (1 + cos(pi * (t - W) / (T - W))) / 2.
/// </summary>
public sealed class LearningRateSchedule
{
    public LearningRateSchedule(double baseRate, long warmupSteps, long totalSteps, double endRate = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        if (warmupSteps > totalSteps) throw new ArgumentException($"warmup ({warmupSteps} steps) is longer than training ({totalSteps} steps).");
        BaseRate = baseRate;
        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
        EndRate = endRate;
    }

    public double BaseRate { get; }
    public long WarmupSteps { get; }
    public long TotalSteps { get; }
    public double EndRate { get; }

    public double At(long step)
    {
        if (step < WarmupSteps) return BaseRate * (step + 1) / WarmupSteps;
        long decaySteps = TotalSteps - WarmupSteps;
        if (decaySteps <= 0) return BaseRate;
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / decaySteps);
        return EndRate + ((BaseRate - EndRate) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}
