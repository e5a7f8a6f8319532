using Loader.Trainer.Checkpoints;
using Loader.Trainer.Models;
using Loader.Trainer.Precision;
using Loader.Trainer.Recipe;
using Loader.Trainer.Training;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Training;

/// <summary>A non-finite loss stops the run (after the fp16 scaler's skips), and never reaches a checkpoint.</summary>
public sealed class DivergenceTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trainer-divergence-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>8 steps per epoch of the tiny task (4 under fp16, slow on a CPU); <paramref name="poisoned"/>(epoch, batch)
    /// batches have infinite pixels.</summary>
    private static TrainingSession NewSession(Func<int, int, bool> poisoned, AmpMode amp = AmpMode.Off, int patience = 10)
    {
        int count = amp == AmpMode.Fp16 ? 128 : 256;
        manual_seed(1);
        var model = new ResNet(ResNetSpec.Parse("resnet-tiny"), TinyTask.Classes);
        var recipe = TrainingRecipe.Create(3, 32, warmupEpochs: 0) with { LearningRatePer256 = 0.8 };
        var source = new PoisonedBatchSource(TinyTask.Source(count, 7, 32, shuffle: true), poisoned);
        return new TrainingSession(model, source, null, recipe,
                                   new SessionOptions { Seed = 3, Amp = amp, NonFiniteLossPatience = patience }, CPU);
    }

    [Fact]
    public void RunEpoch_NaNLoss_StopsNamingTheStepAndKeepsTheLastGoodCheckpoint()
    {
        string checkpoint = Path.Combine(_directory, "checkpoint");
        using TrainingSession session = NewSession((epoch, batch) => epoch == 1 && batch == 2);
        session.RunEpoch(TestContext.Current.CancellationToken);
        session.SaveCheckpoint(checkpoint, TinyTask.Size, zeroInitResidual: false);
        Dictionary<string, Tensor> saved = session.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        var error = Assert.Throws<TrainingDivergedException>(() => session.RunEpoch(TestContext.Current.CancellationToken));

        // Step 11 = epoch 2, batch 3: found at the epoch's end (no sync per step), reported where it happened.
        Assert.StartsWith("step 11 (epoch 2): the loss is not finite", error.Message, StringComparison.Ordinal);
        Assert.Contains($"The last good checkpoint is {checkpoint} (step 8, end of epoch 1)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        // The diverged weights cannot be written over it...
        Assert.Throws<TrainingDivergedException>(() => session.SaveCheckpoint(checkpoint, TinyTask.Size, zeroInitResidual: false));
        Assert.False(Directory.Exists(checkpoint + ".writing"));
        // ...and it still loads, with the weights of the end of epoch 1.
        using TrainingSession resumed = NewSession((_, _) => false);
        resumed.Resume(checkpoint);
        Assert.Equal((1, 0L, 8L), (resumed.Epoch, resumed.Position, resumed.GlobalStep));
        foreach ((string name, Tensor tensor) in resumed.Model.state_dict())
            Assert.True(tensor.allclose(saved[name], rtol: 0, atol: 0), name);
    }

    [Fact]
    public void SaveCheckpoint_NonFiniteWeights_RefusesAndNamesTheTensor()
    {
        string checkpoint = Path.Combine(_directory, "checkpoint");
        using TrainingSession session = NewSession((_, _) => false);
        session.SaveCheckpoint(checkpoint, TinyTask.Size, zeroInitResidual: false);
        byte[] before = File.ReadAllBytes(Path.Combine(checkpoint, CheckpointStore.ModelFile));
        using (no_grad()) session.Model.state_dict()["fc.bias"].fill_(float.NaN);

        var error = Assert.Throws<TrainingDivergedException>(() => session.SaveCheckpoint(checkpoint, TinyTask.Size, zeroInitResidual: false));

        Assert.StartsWith("fc.bias holds NaN or infinity", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(checkpoint, CheckpointStore.ModelFile)));
    }

    [Fact]
    public void RunEpoch_Fp16_OneNaNLoss_IsSkippedAndTrainingGoesOn()
    {
        using TrainingSession session = NewSession((epoch, batch) => epoch == 0 && batch == 2, AmpMode.Fp16);
        session.StepLosses = [];

        EpochMetrics? metrics = session.RunEpoch(TestContext.Current.CancellationToken);

        Assert.NotNull(metrics);
        Assert.True(float.IsNaN(session.StepLosses[2]), $"step 3's loss: {session.StepLosses[2]}");
        Assert.Equal(1, metrics.SkippedSteps);
        Assert.True(double.IsFinite(metrics.TrainLoss), $"train loss {metrics.TrainLoss}: the skipped step's NaN must not count");
        // Its forward pass poisoned BatchNorm's running statistics; they were put back, so the checkpoint is written.
        Assert.All(session.Model.buffers(), b => Assert.True(!b.is_floating_point() || b.isfinite().all().item<bool>()));
        session.SaveCheckpoint(Path.Combine(_directory, "checkpoint"), TinyTask.Size, zeroInitResidual: false);
    }

    /// <summary>An fp16 epoch whose every loss was skipped has no mean (NaN): the metrics line and the checkpoint are
    /// still written, and read back.</summary>
    [Fact]
    public void SaveCheckpoint_NaNInTheHistory_IsWrittenAndReadBack()
    {
        string checkpoint = Path.Combine(_directory, "checkpoint");
        string metricsFile = Path.Combine(_directory, "metrics.jsonl");
        using TrainingSession session = NewSession((epoch, _) => epoch == 0, AmpMode.Fp16);
        EpochMetrics metrics = session.RunEpoch(TestContext.Current.CancellationToken)!;
        Assert.True(double.IsNaN(metrics.TrainLoss));
        Assert.Equal(4, metrics.SkippedSteps);

        new Loader.Trainer.Logging.MetricsLog(metricsFile, append: false).Append(metrics);
        session.SaveCheckpoint(checkpoint, TinyTask.Size, zeroInitResidual: false);

        Assert.Contains("\"train_loss\":\"NaN\"", File.ReadAllText(metricsFile), StringComparison.Ordinal);
        Assert.True(double.IsNaN(CheckpointStore.ReadState(checkpoint).History[0].TrainLoss));
    }

    [Fact]
    public void RunEpoch_Fp16_LossStaysNaN_StopsAfterThePatience()
    {
        using TrainingSession session = NewSession((_, batch) => batch >= 1, AmpMode.Fp16, patience: 3);

        var error = Assert.Throws<TrainingDivergedException>(() => session.RunEpoch(TestContext.Current.CancellationToken));

        Assert.StartsWith("step 4 (epoch 1): the fp16 loss was not finite on 3 steps in a row", error.Message, StringComparison.Ordinal);
        Assert.Contains("No checkpoint was written before it", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, session.LossScaler!.SkippedSteps);
    }
}
