using System.Globalization;
using Loader.Augment;
using Loader.Pipeline;
using Loader.Trainer.Data;
using Loader.Trainer.Models;
using Loader.Trainer.Recipe;
using Loader.Trainer.Training;
using static TorchSharp.torch;

namespace Loader.Trainer.Distributed.TestHost;

/// <summary>
/// A real training run (TrainingSession over the record loader, rank-sharded) that records which samples each global
/// step consumed: with one label per record, the labels are the sample ids. Rank 0 writes "step: sorted labels"
/// lines. Optionally resumes from a checkpoint and stops after a global step (asked on rank 0 only: the stop must
/// be collective), saving a checkpoint from rank 0 as `trainer train` does.
/// Arguments: DATA OUT_FILE GLOBAL_BATCH EPOCHS [--resume DIR] [--stop-after STEP --save DIR]
/// </summary>
internal static class SequenceRun
{
    public static int Run(string[] args)
    {
        string data = args[0], outFile = args[1];
        int globalBatch = int.Parse(args[2], CultureInfo.InvariantCulture), epochs = int.Parse(args[3], CultureInfo.InvariantCulture);
        string? resume = Option(args, "--resume"), save = Option(args, "--save");
        long stopAfter = Option(args, "--stop-after") is { } s ? long.Parse(s, CultureInfo.InvariantCulture) : long.MaxValue;

        using DistributedJob job = DistributedJob.Start(CPU);
        int batch = job.PerRankBatch(globalBatch);
        var options = new LoaderOptions
        {
            DataDirectory = data,
            BatchSize = batch,
            Threads = 1,
            Seed = 9,
            Rank = job.Rank,
            WorldSize = job.WorldSize,
            Train = true,
            Augment = new AugmentOptions { OutputSize = 16 },
            Output = OutputSpec.ImageNet(16, PixelType.Float32),
            LastBatch = LastBatchPolicy.Drop,
        };
        using var train = new RecordingSource(new LoaderBatchSource(options, CPU));
        manual_seed(3);
        var model = new ResNet(ResNetSpec.Parse("resnet-tiny"), train.ClassCount);
        var recipe = TrainingRecipe.Create(epochs, globalBatch, warmupEpochs: 0);
        using var session = new TrainingSession(model, train, null, recipe, new SessionOptions { Seed = 9, DataParallel = job.DataParallel }, CPU);
        if (resume != null) session.Resume(resume);

        using var stop = new CancellationTokenSource();
        var lines = new List<string>();
        session.StepCompleted = step =>
        {
            long[] all = new long[train.LastLabels.Length * job.WorldSize];
            job.Communicator.AllGather(train.LastLabels, all);
            Array.Sort(all);
            lines.Add($"{step.GlobalStep}: {string.Join(' ', all)}");
            if (step.GlobalStep >= stopAfter && job.IsRoot) stop.Cancel();   // only rank 0 is asked
        };
        while (!session.Finished)
            if (session.RunEpoch(stop.Token) is null) break;
        if (save != null && job.IsRoot) session.SaveCheckpoint(save, 16, zeroInitResidual: false);
        if (job.IsRoot) File.WriteAllLines(outFile, lines);
        return 0;
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>The loader's batches, passed on unchanged, with the labels of the latest one kept.</summary>
    private sealed class RecordingSource(LoaderBatchSource inner) : IBatchSource
    {
        public long[] LastLabels { get; private set; } = [];

        public int ClassCount => inner.ClassCount;

        public long SamplesPerEpoch => inner.SamplesPerEpoch;

        public int BatchesPerEpoch => inner.BatchesPerEpoch;

        public IEnumerable<TrainingBatch> ReadEpoch(int epoch, long position)
        {
            foreach (TrainingBatch batch in inner.ReadEpoch(epoch, position))
            {
                LastLabels = batch.Labels.data<long>().ToArray();
                yield return batch;
            }
        }

        public void Dispose() => inner.Dispose();
    }
}
