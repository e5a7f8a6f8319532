using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Loader.Trainer.Precision;

/// <summary>
/// Dynamic loss scaling for fp16 training: the loss is multiplied by <see cref="Scale"/> before backward so small
/// gradients survive fp16, gradients are divided by it before the optimizer step, a step whose gradients hold inf or
/// NaN is skipped and the scale backed off, and the scale grows after a run of good steps.
/// </summary>
public sealed class DynamicLossScaler
{
    private readonly LossScalerOptions _options;

    public DynamicLossScaler(LossScalerOptions options)
    {
        if (options.InitialScale <= 0 || options.GrowthFactor <= 1 || options.BackoffFactor <= 0 ||
            options.BackoffFactor >= 1 || options.GrowthInterval < 1)
            throw new ArgumentException("loss scaler: need scale > 0, growth > 1, 0 < backoff < 1, interval >= 1.");
        _options = options;
        Scale = options.InitialScale;
    }

    public double Scale { get; private set; }

    /// <summary>Consecutive steps without overflow since the last growth or backoff.</summary>
    public int GoodSteps { get; private set; }

    public long SkippedSteps { get; private set; }

    public LossScalerState State => new(Scale, GoodSteps, SkippedSteps);

    public void Restore(LossScalerState state)
    {
        Scale = state.Scale;
        GoodSteps = state.GoodSteps;
        SkippedSteps = state.SkippedSteps;
    }

    public Tensor ScaleLoss(Tensor loss) => loss * Scale;

    /// <summary>
    /// Divides every gradient by the scale in place and reports whether any is inf or NaN (one host sync per step,
    /// as GradScaler's step does).
    /// </summary>
    public bool UnscaleGradients(IEnumerable<Parameter> parameters)
    {
        using var scope = NewDisposeScope();
        double inverse = 1.0 / Scale;
        Tensor? allFinite = null;
        foreach (Parameter p in parameters)
        {
            Tensor? grad = p.grad;
            if (grad is null) continue;
            grad.mul_(inverse);
            Tensor finite = grad.isfinite().all();
            allFinite = allFinite is null ? finite : allFinite.logical_and(finite);
        }
        return allFinite is not null && !allFinite.item<bool>();
    }

    /// <summary>Moves the scale after a step: back off on overflow (the step was skipped), grow after a good run.</summary>
    public void Update(bool foundOverflow)
    {
        if (foundOverflow)
        {
            Scale *= _options.BackoffFactor;
            GoodSteps = 0;
            SkippedSteps++;
            return;
        }
        GoodSteps++;
        if (GoodSteps >= _options.GrowthInterval)
        {
            Scale *= _options.GrowthFactor;
            GoodSteps = 0;
        }
    }

    /// <summary>One optimizer step under scaling: unscale, step unless overflowed, update the scale. True when stepped.
    /// <paramref name="agree"/> turns this rank's overflow finding into the job's (every rank must skip together).</summary>
    public bool Step(OptimizerHelper optimizer, IEnumerable<Parameter> parameters, Func<bool, bool>? agree = null)
    {
        bool overflow = UnscaleGradients(parameters);
        if (agree != null) overflow = agree(overflow);
        if (!overflow) optimizer.step();
        Update(overflow);
        return !overflow;
    }
}
