using Loader.Trainer.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Loader.Trainer.Distributed;

/// <summary>
/// What a <see cref="TrainingSession"/> does differently on more than one rank, at the few points where it asks:
/// start (broadcast rank 0's weights and buffers, gradients into a <see cref="GradientBuffer"/>), after backward
/// (all-reduce and average the gradients), every decision that skips or stops (taken by all ranks together), the
/// epoch's end (replica check; loss and evaluation sums over ranks). BatchNorm statistics stay per rank, as in
/// DeepLearningExamples and DDP; the replica check therefore covers parameters and the BN buffers only after rank 0's
/// initial broadcast, not during training (see <see cref="CheckReplicas"/>).
/// </summary>
public sealed class DataParallel : IDisposable
{
    private GradientBuffer? _gradients;
    private bool _checkedAttachment;

    public DataParallel(Communicator communicator, long fusionBytes = GradientBuffer.DefaultFusionBytes)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        ArgumentOutOfRangeException.ThrowIfLessThan(fusionBytes, 1);
        Communicator = communicator;
        FusionBytes = fusionBytes;
    }

    public Communicator Communicator { get; }

    public long FusionBytes { get; }

    public int Rank => Communicator.Rank;

    public int WorldSize => Communicator.WorldSize;

    public bool IsRoot => Communicator.IsRoot;

    /// <summary>Validation samples this rank evaluates before its share ends: the loader pads the last ranks' shares
    /// to equal length by wrapping around, and those repeats must not be counted (set by whoever builds the source).</summary>
    public long ValidationSamplesThisRank { get; set; } = long.MaxValue;

    public GradientBuffer? Gradients => _gradients;

    /// <summary>Makes every rank's model rank 0's (parameters and buffers) and puts the gradients in flat buffers.
    /// Called once the model is on its device and in its final layout.</summary>
    public void Attach(nn.Module model, IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(parameters);
        BroadcastFromRoot(model);
        _gradients?.Dispose();
        _gradients = new GradientBuffer(parameters, FusionBytes, WorldSize);
    }

    /// <summary>Rank 0's parameters and buffers, in place, on every rank.</summary>
    public void BroadcastFromRoot(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (WorldSize == 1) return;
        using (no_grad())
            foreach ((string _, Tensor tensor) in ReplicaCheck.StateOf(model))
                Communicator.Broadcast(tensor, root: 0);
    }

    /// <summary>After backward: every rank's gradients become the average over ranks.</summary>
    public void ReduceGradients()
    {
        if (_gradients is null) throw new InvalidOperationException("Attach the model before reducing gradients.");
        // Once, after the first backward (checking costs a wrapper per parameter, so not every step).
        if (!_checkedAttachment)
        {
            CheckAttached();
            _checkedAttachment = true;
        }
        _gradients.AllReduceAverage(Communicator);
    }

    /// <summary>Throws when a gradient no longer lives in the flat buffer (it would not be reduced).</summary>
    private void CheckAttached()
    {
        if (_gradients is { } buffer && !buffer.IsAttached())
            throw new InvalidOperationException(
                "a parameter's .grad is no longer a view of the flat gradient buffer: something replaced or cleared it " +
                "(Module.zero_grad sets gradients to null; the optimizer's zero_grad zeroes them in place).");
    }

    /// <summary>True on every rank when true on any: stop requests, non-finite checks, loss-scaler overflows.</summary>
    public bool AnyRank(bool local) => Communicator.AnyRank(local);

    /// <summary>The sum over ranks of one number per rank.</summary>
    public double Sum(double local)
    {
        if (WorldSize == 1) return local;
        Span<double> value = [local];
        Communicator.AllReduce(value, ReduceOperation.Sum);
        return value[0];
    }

    /// <summary>Every rank's evaluation of its share, summed into the evaluation of the whole set.</summary>
    public EvalResult Combine(EvalResult local)
    {
        if (WorldSize == 1) return local;
        Span<double> sums = [Math.Round(local.Top1 * local.Samples / 100), Math.Round(local.Top5 * local.Samples / 100),
                             local.Loss * local.Samples, local.Samples];
        Communicator.AllReduce(sums, ReduceOperation.Sum);
        Span<double> seconds = [local.ImagesPerSecond > 0 ? local.Samples / local.ImagesPerSecond : 0];
        Communicator.AllReduce(seconds, ReduceOperation.Max);
        double samples = sums[3];
        if (samples == 0) return new EvalResult(0, 0, 0, 0, 0);
        return new EvalResult(100 * sums[0] / samples, 100 * sums[1] / samples, sums[2] / samples, (long)samples,
                              seconds[0] > 0 ? samples / seconds[0] : 0);
    }

    /// <summary>
    /// The replica check of <see cref="ReplicaCheck"/> over the parameters (which every rank updates with the same
    /// averaged gradients, so they must stay bit-identical) and, with <paramref name="includeBuffers"/>, the buffers
    /// (identical only where nothing has trained yet: BN running statistics are per rank).
    /// </summary>
    public void CheckReplicas(nn.Module model, string when, bool includeBuffers = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        IReadOnlyList<(string Name, Tensor Tensor)> state = includeBuffers
            ? ReplicaCheck.StateOf(model)
            : [.. model.named_parameters().Select(p => (p.name, (Tensor)p.parameter))];
        ReplicaCheck.Run(Communicator, state, when);
        CheckAttached();
    }

    public void Dispose() => _gradients?.Dispose();
}
