using Loader.Augment;
using Loader.Pipeline;
using Loader.Trainer.Checkpoints;
using Loader.Trainer.Data;
using Loader.Trainer.Distributed;
using Loader.Trainer.Interop;
using Loader.Trainer.Logging;
using Loader.Trainer.Models;
using Loader.Trainer.Recipe;
using Loader.Trainer.Training;
using static TorchSharp.torch;

namespace Loader.Trainer.Commands;

/// <summary>`trainer train`: builds the sources, model and session from the arguments and runs the epochs.</summary>
public static class TrainCommand
{
    public static int Run(TrainArguments args, CancellationToken cancellation)
    {
        TrainArgumentChecks.Validate(args);
        TorchRuntime.EnsureLoaded();
        ResNetSpec spec = ResNetSpec.Parse(args.Arch);
        // --loader gpu implies --device cuda, and fails here, before anything is opened, where there is no GPU path.
        Device requested = TorchRuntime.PickDevice(args.Loader == "gpu" ? GpuLoaderBatchSource.RequireCudaDevice(args.Device) : args.Device);
        // Data parallel (mpirun / srun): this rank's GPU, the communicator, and --batch split over the ranks.
        using DistributedJob job = DistributedJob.Start(requested, (long)args.FusionMegabytes << 20);
        Device device = job.Device;
        TrainArguments global = args;
        args = args with { Batch = job.PerRankBatch(args.Batch) };
        TextWriter console = job.IsRoot ? Console.Out : TextWriter.Null;
        if (args.TorchThreads is { } threads) set_num_threads(threads);
        manual_seed(unchecked((long)args.Seed));
        int evalResize = args.EvalResize ?? (int)Math.Round(args.ImageSize * 256.0 / 224);

        using IBatchSource train = CreateTrainSource(args, device, job);
        using IBatchSource? validation = args.Val is null ? null : CreateEvalSource(args.Val, args.Batch, args.ImageSize, evalResize, args.Threads, device, args.ChannelsLast, job.Rank, job.WorldSize);
        int classes = args.Classes ?? train.ClassCount;
        if (classes != train.ClassCount)
            throw new ArgumentException($"--classes {classes}, but {args.Data} holds {train.ClassCount} classes.");
        if (validation != null && validation.ClassCount != classes)
            throw new ArgumentException($"{args.Val} holds {validation.ClassCount} classes, the training set {classes}.");

        if (job.WorldSize > 1) RunAgreement.Check(job.Communicator, DistributedTraining.SettingsToAgree(global, classes, train, validation));
        TrainingRecipe recipe = TrainingRecipe.Create(args.Epochs, global.Batch, args.WarmupEpochs, args.MixUp) with
        {
            LearningRatePer256 = args.LearningRatePer256 ?? TrainingRecipe.DefaultLearningRatePer256,
            LabelSmoothing = args.LabelSmoothing,
            WeightDecay = args.WeightDecay ?? TrainingRecipe.DefaultWeightDecay,
            Momentum = args.Momentum ?? 0.875,
        };
        var model = new ResNet(spec, classes, args.ZeroInitResidual);
        if (args.InitFrom != null) PyTorchWeights.Load(model, args.InitFrom);
        DataSetIdentity dataSet = args.Loader == "synthetic" ? DataSetIdentity.ForSynthetic(train) : DataSetIdentity.ForRecords(args.Data!, train);
        if (job.DataParallel is { } parallel && validation is LoaderBatchSource evaluation)
            parallel.ValidationSamplesThisRank = job.EvaluationShare(evaluation.DatasetSize);
        var options = new SessionOptions
        {
            Amp = args.Amp, LossScaler = args.LossScaler, Seed = args.Seed, ChannelsLast = args.ChannelsLast, DataSet = dataSet,
            DataParallel = job.DataParallel,
        };
        using var session = new TrainingSession(model, train, validation, recipe, options, device);

        string checkpoint = Path.Combine(args.Output, "checkpoint");
        if (args.Resume != null)
        {
            string from = File.Exists(Path.Combine(args.Resume, CheckpointStore.StateFile)) ? args.Resume : Path.Combine(args.Resume, "checkpoint");
            CheckpointCompatibility.EnsureResumable(from, CheckpointStore.ReadState(from),
                new ResumedRun(spec.Name, classes, recipe.GlobalBatch, args.ImageSize, args.Epochs, args.Seed, dataSet), args.ResumeOverride, Console.Error);
            session.Resume(from);
            console.WriteLine($"resumed from {from}: epoch {session.Epoch + 1}, step {session.GlobalStep}");
        }
        console.WriteLine(job.Describe() + (job.WorldSize > 1 ? $", {args.Batch} per rank" : ""));
        console.WriteLine(
            $"{spec.Name} ({model.parameters().Sum(p => p.numel()):N0} parameters, {classes} classes) on {device.type}, amp {args.Amp.ToString().ToLowerInvariant()}{(args.ChannelsLast ? ", channels-last" : "")}, batch {global.Batch}, {args.Epochs} epochs, lr {recipe.BaseLearningRate:G4}, warmup {recipe.WarmupEpochs} epochs, mixup {recipe.MixUpAlpha}, {train.BatchesPerEpoch} steps/epoch");

        if (!job.IsRoot) return DistributedTraining.RunFollower(session, cancellation);  // ranks > 0 write nothing
        var metricsLog = new MetricsLog(args.Metrics ?? Path.Combine(args.Output, "metrics.jsonl"), append: args.Resume != null);
        var tensorBoard = new TensorBoardLog(Path.Combine(args.Output, "tensorboard"));
        bool interrupted = false;
        ProgressDisplay.Run(session, train.BatchesPerEpoch, tensorBoard.Step, report =>
        {
            while (!session.Finished)
            {
                EpochMetrics? metrics = session.RunEpoch(cancellation);
                session.SaveCheckpoint(checkpoint, args.ImageSize, args.ZeroInitResidual);
                if (metrics is null)
                {
                    interrupted = true;
                    return;
                }
                metricsLog.Append(metrics);
                tensorBoard.Epoch(metrics);
                report(metrics);
            }
        });
        if (interrupted)
        {
            Console.WriteLine($"interrupted: checkpoint saved to {checkpoint} (epoch {session.Epoch + 1}, step {session.GlobalStep}); continue with --resume {args.Output}");
            return ExitCodes.Interrupted;
        }
        IReadOnlyList<string> plots = CurvePlotter.Save(session.History, Path.Combine(args.Output, "plots"));
        EpochMetrics? last = session.History.Count > 0 ? session.History[^1] : null;
        if (last != null)
            Console.WriteLine(
                $"final: epoch {last.Epoch} train_loss {last.TrainLoss:F4} val_top1 {Format(last.ValTop1)} val_top5 {Format(last.ValTop5)} images/s {last.ImagesPerSec:F1}");
        Console.WriteLine($"checkpoint: {checkpoint}; plots: {string.Join(", ", plots)}");
        return 0;
    }

    private static string Format(double? value) => value is { } v ? v.ToString("F2", System.Globalization.CultureInfo.InvariantCulture) : "-";

    private static IBatchSource CreateTrainSource(TrainArguments args, Device device, DistributedJob job)
    {
        switch (args.Loader)
        {
            case "synthetic":
                return new SyntheticBatchSource(args.Batch, args.ImageSize, args.Classes ?? 1000, args.SyntheticSteps, device, unchecked(args.Seed + (ulong)job.Rank), args.ChannelsLast);
            case "gpu":
                // The step's input arrives in the autocast type (fp16/bf16), fp32 without AMP.
                return new GpuLoaderBatchSource(TrainLoaderOptions(args, GpuLoaderBatchSource.PixelTypeFor(args.Amp)) with { Rank = job.Rank, WorldSize = job.WorldSize }, device);
            case "cpu":
                // Channels-last batches come straight from the loader (NHWC slots), with no copy in the step.
                LoaderOptions options = TrainLoaderOptions(args, PixelType.Float32) with { Rank = job.Rank, WorldSize = job.WorldSize };
                return new LoaderBatchSource(args.ChannelsLast ? options with { Output = OutputSpec.ImageNet(args.ImageSize, PixelType.Float32, PixelLayout.Nhwc) } : options, device);
            default:
                throw new ArgumentException($"--loader {args.Loader}: expected cpu, gpu or synthetic.");
        }
    }

    /// <summary>The training loader's options, the same for the CPU and GPU loaders but for the pixel type.</summary>
    private static LoaderOptions TrainLoaderOptions(TrainArguments args, PixelType pixelType)
    {
        if (args.Data is null) throw new ArgumentException($"--loader {args.Loader} needs --data DIR (a directory of record shards; see make-records).");
        return new LoaderOptions
        {
            DataDirectory = args.Data,
            BatchSize = args.Batch,
            Threads = args.Threads,
            Seed = args.Seed,
            Train = true,
            Augment = new AugmentOptions { OutputSize = args.ImageSize, ScaleMin = args.MinCropScale },
            Output = OutputSpec.ImageNet(args.ImageSize, pixelType),
            // BatchNorm needs more than one sample per batch, and equal batches keep the schedule simple.
            LastBatch = LastBatchPolicy.Drop,
        };
    }

    /// <summary>A validation source: records in stored order, resize to <paramref name="evalResize"/> then center crop.</summary>
    public static IBatchSource CreateEvalSource(string directory, int batch, int imageSize, int evalResize, int threads, Device device,
                                                bool channelsLast = false, int rank = 0, int worldSize = 1) =>
        new LoaderBatchSource(new LoaderOptions
        {
            Rank = rank,
            WorldSize = worldSize,
            DataDirectory = directory,
            BatchSize = batch,
            Threads = threads,
            Train = false,
            Augment = new AugmentOptions { OutputSize = imageSize, EvalResize = evalResize },
            Output = OutputSpec.ImageNet(imageSize, PixelType.Float32, channelsLast ? PixelLayout.Nhwc : PixelLayout.Nchw),
            LastBatch = LastBatchPolicy.Partial,
        }, device);
}
