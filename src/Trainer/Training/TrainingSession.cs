using System.Diagnostics;
using System.Runtime.InteropServices;
using Loader.Trainer.Checkpoints;
using Loader.Trainer.Data;
using Loader.Trainer.Evaluation;
using Loader.Trainer.Models;
using Loader.Trainer.Precision;
using Loader.Trainer.Recipe;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Loader.Trainer.Training;

/// <summary>
/// The training loop: one ResNet, its SGD optimizer, the recipe's schedule, mixed precision, and where it stands
/// (epoch, position in the epoch, global step). Runs epoch by epoch, stops cleanly on cancellation mid-epoch, and
/// saves and restores everything needed to continue exactly.
/// </summary>
public sealed class TrainingSession : IDisposable
{
    private readonly IBatchSource _train;
    private readonly IBatchSource? _validation;
    private readonly SessionOptions _options;
    private readonly Parameter[] _parameters;
    private readonly DynamicLossScaler? _scaler;
    private readonly LearningRateSchedule _schedule;
    private readonly DivergenceGuard _divergence;
    private readonly BufferSnapshot? _buffers;
    private double _epochLossSum;
    private long _epochSamples;

    /// <summary>Moves <paramref name="model"/> to <paramref name="device"/> (and to channels-last when asked), then builds
    /// the optimizer (in that order: <c>to</c> replaces the parameter objects).</summary>
    public TrainingSession(ResNet model, IBatchSource train, IBatchSource? validation, TrainingRecipe recipe,
                           SessionOptions options, Device device)
    {
        Model = model;
        Device = device;
        Recipe = recipe;
        _train = train;
        _validation = validation;
        _options = options;
        model.to(device);
        if (options.ChannelsLast) ChannelsLast.ConvertModel(model);
        Optimizer = WeightDecayGroups.CreateOptimizer(model, recipe);
        _parameters = [.. model.parameters()];
        // Distributed: rank 0's initial weights everywhere, gradients in flat buffers (hooks marked "data parallel").
        options.DataParallel?.Attach(model, _parameters);
        _scaler = options.Amp == AmpMode.Fp16 ? new DynamicLossScaler(options.LossScaler) : null;
        _schedule = recipe.Schedule(train.BatchesPerEpoch);
        _divergence = new DivergenceGuard(device, options.NonFiniteLossPatience, options.DataParallel);
        _buffers = _scaler is null ? null : new BufferSnapshot(model);
    }

    public ResNet Model { get; }
    public SGD Optimizer { get; }
    public Device Device { get; }
    public TrainingRecipe Recipe { get; }
    public LearningRateSchedule Schedule => _schedule;
    public DynamicLossScaler? LossScaler => _scaler;

    public int Epoch { get; private set; }
    public long Position { get; private set; }
    public long GlobalStep { get; private set; }
    public List<EpochMetrics> History { get; private set; } = [];
    public bool Finished => Epoch >= Recipe.Epochs;

    /// <summary>Called after every step (from the training thread).</summary>
    public Action<StepInfo>? StepCompleted { get; set; }

    /// <summary>Losses of every step when set (tests compare runs with it); reading them back syncs every step.</summary>
    public List<float>? StepLosses { get; set; }

    /// <summary>
    /// Trains the rest of the current epoch, then evaluates. Returns the epoch's metrics, or null when
    /// <paramref name="cancellation"/> stopped it between two steps (the state then points at the next step).
    /// </summary>
    public EpochMetrics? RunEpoch(CancellationToken cancellation = default)
    {
        if (Finished) throw new InvalidOperationException("training already finished.");
        Model.train();
        var clock = Stopwatch.StartNew();
        long samplesThisRun = 0;
        // Position counts the samples of all ranks; the source's SamplesPerEpoch is this rank's share.
        int batchInEpoch = (int)(Position * _train.BatchesPerEpoch / Math.Max(1, _train.SamplesPerEpoch * WorldSize));
        double lr = _schedule.At(GlobalStep);
        using Tensor lossSum = zeros(1, ScalarType.Float64, Device);
        _buffers?.Take();
        foreach (TrainingBatch batch in _train.ReadEpoch(Epoch, Position))
        {
            if (StopRequested(cancellation))
            {
                AccumulateLoss(lossSum);
                return null;
            }
            lr = _schedule.At(GlobalStep);
            Tensor loss;
            try
            {
                loss = Step(batch, lr, lossSum);
            }
            catch (ExternalException e)
            {
                throw TrainingStepException.FromLibTorch(e, Epoch, GlobalStep + 1);
            }
            GlobalStep++;
            batchInEpoch++;
            Position = batch.PositionAfter;
            // Every rank takes batches of the same size, so the job's samples are this rank's times the world size.
            samplesThisRun += batch.Count * WorldSize;
            // Read-backs fall on the same steps on every rank (the divergence check there is collective); StepLosses
            // (tests, one process) reads every step's loss as well.
            bool readBack = GlobalStep % Math.Max(1, _options.LogInterval) == 0 || batchInEpoch == _train.BatchesPerEpoch;
            bool sync = readBack || StepLosses != null;
            float lossValue = sync ? loss.item<float>() : float.NaN;
            if (readBack) _divergence.ThrowIfDiverged(Epoch);
            if (sync) _buffers?.Take();
            loss.Dispose();
            StepLosses?.Add(lossValue);
            StepCompleted?.Invoke(new StepInfo(Epoch, batchInEpoch, _train.BatchesPerEpoch, GlobalStep, lossValue, lr,
                                               samplesThisRun / clock.Elapsed.TotalSeconds));
        }
        AccumulateLoss(lossSum);
        double seconds = clock.Elapsed.TotalSeconds;
        _options.DataParallel?.CheckReplicas(Model, $"at the end of epoch {Epoch + 1}");  // data parallel
        EvalResult? eval = _validation is null ? null : EvaluateValidation(_validation);
        var metrics = new EpochMetrics
        {
            Epoch = Epoch + 1,
            TrainLoss = _epochSamples == 0 ? double.NaN : _epochLossSum / _epochSamples,
            ValTop1 = eval?.Top1,
            ValTop5 = eval?.Top5,
            ValLoss = eval?.Loss,
            ImagesPerSec = samplesThisRun / seconds,
            LearningRate = lr,
            Seconds = seconds,
            GlobalStep = GlobalStep,
            SkippedSteps = _scaler?.SkippedSteps ?? 0,
            LossScale = _scaler?.Scale,
        };
        History.Add(metrics);
        Epoch++;
        Position = 0;
        _epochLossSum = 0;
        _epochSamples = 0;
        return metrics;
    }

    // Data parallel: the loss sums of all ranks (the epoch's totals are the job's, whatever the world size).
    private void AccumulateLoss(Tensor lossSum)
    {
        _divergence.ThrowIfDiverged(Epoch);
        _epochLossSum += _options.DataParallel?.Sum(lossSum.item<double>()) ?? lossSum.item<double>();
    }

    private int WorldSize => _options.DataParallel?.WorldSize ?? 1;

    /// <summary>Stop between two steps when asked; on several ranks, when any rank was asked (data parallel).</summary>
    private bool StopRequested(CancellationToken cancellation) =>
        _options.DataParallel?.AnyRank(cancellation.IsCancellationRequested) ?? cancellation.IsCancellationRequested;

    /// <summary>Each rank evaluates its share of the validation set; data parallel sums the counts over ranks.</summary>
    private EvalResult EvaluateValidation(IBatchSource validation)
    {
        if (_options.DataParallel is not { } parallel) return Evaluate(validation);
        EvalResult mine = Evaluator.Evaluate(Model, validation, Device, _options.Amp, Model.Classes, parallel.ValidationSamplesThisRank);
        return parallel.Combine(mine);
    }

    /// <summary>One optimizer step. Returns the (unscaled, fp32) loss; the caller disposes it.</summary>
    private Tensor Step(TrainingBatch batch, double lr, Tensor lossSum)
    {
        foreach (var group in Optimizer.ParamGroups) group.LearningRate = lr;
        using var scope = NewDisposeScope();
        // Sources that cannot deliver channels-last batches themselves (synthetic, in-memory, GPU) are converted here.
        Tensor images = _options.ChannelsLast && !ChannelsLast.Is(batch.Images) ? ChannelsLast.Copy(batch.Images) : batch.Images;
        Tensor loss;
        if (Recipe.MixUpAlpha > 0)
        {
            MixUp.Mixed mixed = MixUp.Apply(images, batch.Labels, Recipe.MixUpAlpha, _options.Seed, GlobalStep);
            using (AutocastScope.Enter(_options.Amp, Device))
            {
                Tensor logits = Model.forward(mixed.Images);
                loss = SmoothedCrossEntropy.MixedLoss(logits, mixed.LabelsA, mixed.LabelsB, mixed.Lambda, Recipe.LabelSmoothing);
            }
        }
        else
        {
            using (AutocastScope.Enter(_options.Amp, Device))
            {
                Tensor logits = Model.forward(images);
                loss = SmoothedCrossEntropy.Loss(logits, batch.Labels, Recipe.LabelSmoothing);
            }
        }
        Optimizer.zero_grad();
        Tensor detached = loss.detach();
        bool counts = true;
        if (_scaler is null)
        {
            loss.backward();
            _options.DataParallel?.ReduceGradients();  // data parallel
            Optimizer.step();
        }
        else
        {
            _scaler.ScaleLoss(loss).backward();
            _options.DataParallel?.ReduceGradients();  // data parallel
            // Every rank skips or takes the step together.
            if (_scaler.Step(Optimizer, _parameters, _options.DataParallel is { } parallel ? parallel.AnyRank : null))
            {
                _divergence.OnTakenStep();
            }
            else
            {
                // Skipped: a non-finite loss is left out of the epoch's mean, and the running statistics its forward
                // pass poisoned are put back.
                counts = _divergence.OnSkippedStep(detached, _scaler, Epoch, GlobalStep + 1);
                if (!counts) _buffers?.RestoreIfNotFinite();
            }
        }
        if (counts)
        {
            lossSum.add_(detached.to_type(ScalarType.Float64) * batch.Count);
            _epochSamples += batch.Count * WorldSize;
            _divergence.Track(detached, GlobalStep + 1);
        }
        return detached.MoveToOuterDisposeScope();
    }

    public EvalResult Evaluate(IBatchSource source) => Evaluator.Evaluate(Model, source, Device, _options.Amp, Model.Classes);

    public CheckpointState CaptureState(int imageSize, bool zeroInitResidual) => new()
    {
        Arch = Model.Spec.Name,
        Classes = Model.Classes,
        ImageSize = imageSize,
        ZeroInitResidual = zeroInitResidual,
        Epoch = Epoch,
        Position = Position,
        GlobalStep = GlobalStep,
        EpochLossSum = _epochLossSum,
        EpochSamples = _epochSamples,
        Seed = _options.Seed,
        Amp = _options.Amp.ToString().ToLowerInvariant(),
        LossScaler = _scaler?.State,
        TorchRngState = Convert.ToBase64String(CaptureRng()),
        Epochs = Recipe.Epochs,
        GlobalBatch = Recipe.GlobalBatch,
        DataSet = _options.DataSet,
        History = [.. History],
    };

    public void SaveCheckpoint(string directory, int imageSize, bool zeroInitResidual)
    {
        // Diverged weights never replace the last good checkpoint. Local: only rank 0 checkpoints, after the epoch's
        // end or a stop, where every rank has taken the collective decision already.
        _divergence.ThrowIfDivergedHere(Epoch);
        _divergence.EnsureFinite(Model.state_dict().Select(kv => (kv.Key, kv.Value))
            .Concat(MomentumStates().Select((s, i) => ($"momentum buffer {i}", s.momentum_buffer)).Where(b => b.Item2 is not null)));
        CheckpointState state = CaptureState(imageSize, zeroInitResidual);
        if (_options.ChannelsLast)
            ChannelsLast.WhileContiguous(LayoutSensitiveTensors(), () => CheckpointStore.Save(directory, Model, Optimizer, state));
        else
            CheckpointStore.Save(directory, Model, Optimizer, state);
        _divergence.LastGoodCheckpoint = Describe(directory, state);
    }

    private static string Describe(string checkpoint, CheckpointState state) =>
        $"{Path.GetFullPath(checkpoint)} (step {state.GlobalStep}, " +
        (state.Position == 0 ? $"end of epoch {state.Epoch})" : $"epoch {state.Epoch + 1} at sample {state.Position})");

    /// <summary>The tensors that follow --channels-last: the parameters and SGD's momentum buffers (made from the
    /// gradients, which take the parameters' layout).</summary>
    private IEnumerable<Tensor> LayoutSensitiveTensors() =>
        _parameters.Concat(MomentumStates().Select(s => s.momentum_buffer).Where(b => b is not null));

    /// <summary>SGD's per-parameter states (the same objects the optimizer steps with).</summary>
    private IEnumerable<SGD.State> MomentumStates() => Optimizer.state_dict().State.OfType<SGD.State>();

    /// <summary>Restores model, optimizer, scaler, position and RNG from a checkpoint made with the same arch and classes.</summary>
    public void Resume(string directory)
    {
        CheckpointState state = CheckpointStore.ReadState(directory);
        if (!string.Equals(state.Arch, Model.Spec.Name, StringComparison.OrdinalIgnoreCase) || state.Classes != Model.Classes)
            throw new InvalidDataException(
                $"{directory}: checkpoint of {state.Arch} with {state.Classes} classes; this run is {Model.Spec.Name} with {Model.Classes}.");
        // With --channels-last, loaded in the plain layout (TorchSharp's load needs it), then back to channels-last,
        // the momentum buffers the load created too.
        if (_options.ChannelsLast)
            ChannelsLast.WhileContiguous(_parameters, () => LoadModelAndOptimizer(directory));
        else
            LoadModelAndOptimizer(directory);
        MoveMomentumBuffersToDevice();
        if (_options.ChannelsLast) ChannelsLast.Convert(LayoutSensitiveTensors());
        if (_scaler != null && state.LossScaler is { } scaler) _scaler.Restore(scaler);
        if (state.TorchRngState is { } rng) RestoreRng(Convert.FromBase64String(rng));
        Epoch = state.Epoch;
        Position = state.Position;
        GlobalStep = state.GlobalStep;
        _epochLossSum = state.EpochLossSum;
        _epochSamples = state.EpochSamples;
        History = [.. state.History];
        _divergence.LastGoodCheckpoint = Describe(directory, state);
    }

    private void LoadModelAndOptimizer(string directory)
    {
        CheckpointStore.LoadModel(directory, Model);
        CheckpointStore.LoadOptimizer(directory, Optimizer);
    }

    /// <summary>
    /// TorchSharp's SGD loads a momentum buffer it did not have yet into <c>torch.empty(shape)</c>, on the CPU, and its
    /// <c>to(device)</c> drops the moved tensor; so a run resumed on CUDA would step with CPU buffers. Moved here.
    /// </summary>
    private void MoveMomentumBuffersToDevice()
    {
        foreach (SGD.State state in MomentumStates())
        {
            Tensor? buffer = state.momentum_buffer;
            if (buffer is null || buffer.device.type == Device.type && buffer.device.index == Device.index) continue;
            Tensor moved = buffer.to(Device);
            if (ReferenceEquals(moved, buffer)) continue;
            state.momentum_buffer = moved.DetachFromDisposeScope();
            buffer.Dispose();
        }
    }

    private static byte[] CaptureRng()
    {
        using Tensor state = get_rng_state();
        return state.bytes.ToArray();
    }

    private static void RestoreRng(byte[] bytes)
    {
        using Tensor state = tensor(bytes, dtype: ScalarType.Byte);
        set_rng_state(state);
    }

    public void Dispose()
    {
        Optimizer.Dispose();
        _divergence.Dispose();
        _buffers?.Dispose();
    }
}
