using Loader.Trainer.Data;
using Loader.Trainer.Models;
using Loader.Trainer.Recipe;
using Loader.Trainer.Tests.Training;
using Loader.Trainer.Training;
using static TorchSharp.torch;

namespace Loader.Trainer.Distributed.TestHost;

/// <summary>
/// A real data-parallel training session in which only the last rank's third batch carries infinite pixels: its
/// loss is NaN there while every other rank's is finite at that step. The loss is read back every 3 steps, so the
/// bad step is the last one before a read-back: a rank deciding alone would stop there while the others went on
/// into the next step's all-reduce. Every rank must stop at the same read-back with the same message; each prints
/// "rank R stopped: MESSAGE" and exits 0.
/// </summary>
internal static class DivergenceRun
{
    public static int Run()
    {
        using DistributedJob job = DistributedJob.Start(CPU);
        int poisonedRank = job.WorldSize - 1;
        using var source = new PoisonedBatchSource(
            new SyntheticBatchSource(batch: 4, imageSize: 16, classes: 5, batchesPerEpoch: 8, CPU, seed: (ulong)(job.Rank + 1)),
            (epoch, batch) => job.Rank == poisonedRank && epoch == 0 && batch == 2);
        manual_seed(3);
        var model = new ResNet(ResNetSpec.Parse("resnet-tiny"), source.ClassCount);
        var recipe = TrainingRecipe.Create(2, 4 * job.WorldSize, warmupEpochs: 0);
        using var session = new TrainingSession(model, source, null, recipe,
                                                new SessionOptions { Seed = 3, LogInterval = 3, DataParallel = job.DataParallel }, CPU);
        try
        {
            session.RunEpoch(CancellationToken.None);
        }
        catch (TrainingDivergedException e)
        {
            Console.WriteLine($"rank {job.Rank} stopped: {e.Message}");
            return 0;
        }
        throw new InvalidOperationException($"rank {job.Rank} finished the epoch although rank {poisonedRank}'s loss was NaN");
    }
}
