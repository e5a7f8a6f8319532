using Loader.Trainer.Checkpoints;
using Loader.Trainer.Models;
using Loader.Trainer.Precision;
using Loader.Trainer.Recipe;
using Loader.Trainer.Training;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Training;

public sealed class TrainingSessionTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trainer-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static TrainingSession NewSession(long initSeed, int epochs, double mixUp = 0, AmpMode amp = AmpMode.Off, int trainCount = 256,
                                              bool channelsLast = false)
    {
        manual_seed(initSeed);
        var model = new ResNet(ResNetSpec.Parse("resnet-tiny"), TinyTask.Classes);
        var recipe = TrainingRecipe.Create(epochs, 32, warmupEpochs: 1, mixUpAlpha: mixUp) with { LearningRatePer256 = 0.8 };
        return new TrainingSession(model, TinyTask.Source(trainCount, 7, 32, shuffle: true), TinyTask.Source(128, 99, 64, shuffle: false),
                                   recipe, new SessionOptions { Seed = 3, Amp = amp, ChannelsLast = channelsLast }, CPU);
    }

    [Fact]
    public void RunEpoch_TinyTask_LearnsFarAboveChance()
    {
        using TrainingSession session = NewSession(1, epochs: 4);
        EpochMetrics? last = null;
        while (!session.Finished) last = session.RunEpoch(TestContext.Current.CancellationToken);

        Assert.NotNull(last);
        Assert.True(last.ValTop1 > 90, $"top-1 {last.ValTop1:F1}% after 4 epochs (chance: 25%)");
        Assert.True(session.History[^1].TrainLoss < session.History[0].TrainLoss);
        Assert.Equal(4 * 8, session.GlobalStep);
    }

    /// <summary>With --channels-last too: its checkpoints are saved and loaded through the plain layout, and the
    /// resumed run's weights and momentum are channels-last again.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Resume_MidEpoch_ContinuesExactlyLikeAnUninterruptedRun(bool channelsLast)
    {
        // Uninterrupted: 2 epochs of 4 steps, with MixUp so its per-step randomness is covered too.
        using TrainingSession reference = NewSession(1, epochs: 2, mixUp: 0.2, trainCount: 128, channelsLast: channelsLast);
        reference.StepLosses = [];
        while (!reference.Finished) reference.RunEpoch(TestContext.Current.CancellationToken);

        // Interrupted after step 3 of epoch 1, checkpointed, and resumed in a fresh session with other initial weights.
        string checkpoint = Path.Combine(_directory, "checkpoint");
        List<float> losses = [];
        using (TrainingSession first = NewSession(1, epochs: 2, mixUp: 0.2, trainCount: 128, channelsLast: channelsLast))
        {
            first.StepLosses = losses;
            using var stop = new CancellationTokenSource();
            first.StepCompleted = step => { if (step.GlobalStep == 3) stop.Cancel(); };
            Assert.Null(first.RunEpoch(stop.Token));
            Assert.Equal(3, first.GlobalStep);
            first.SaveCheckpoint(checkpoint, TinyTask.Size, zeroInitResidual: false);
        }
        using TrainingSession resumed = NewSession(42, epochs: 2, mixUp: 0.2, trainCount: 128, channelsLast: channelsLast);
        resumed.Resume(checkpoint);
        if (channelsLast) Assert.All(resumed.Model.parameters().Where(p => p.dim() == 4), p => Assert.True(ChannelsLast.Is(p)));
        Assert.Equal((0, 3 * 32L, 3L), (resumed.Epoch, resumed.Position, resumed.GlobalStep));
        resumed.StepLosses = losses;
        while (!resumed.Finished) resumed.RunEpoch(TestContext.Current.CancellationToken);

        Assert.Equal(reference.StepLosses.Count, losses.Count);
        for (int i = 0; i < losses.Count; i++)
            Assert.True(Math.Abs(reference.StepLosses[i] - losses[i]) < 1e-4, $"step {i + 1}: {reference.StepLosses[i]} vs {losses[i]}");
        Assert.Equal(reference.History.Select(h => Math.Round(h.TrainLoss, 4)), resumed.History.Select(h => Math.Round(h.TrainLoss, 4)));
        Assert.Equal(reference.History[^1].ValTop1, resumed.History[^1].ValTop1);
    }

    /// <summary>Channels-last changes the memory order, not the arithmetic: the same run's losses agree with the plain
    /// layout's to float rounding, and the weights stay channels-last through the optimizer's steps.</summary>
    [Fact]
    public void ChannelsLast_TrainsLikeThePlainLayout()
    {
        using TrainingSession plain = NewSession(1, epochs: 1, trainCount: 128);
        using TrainingSession channelsLast = NewSession(1, epochs: 1, trainCount: 128, channelsLast: true);
        plain.StepLosses = [];
        channelsLast.StepLosses = [];
        EpochMetrics? a = plain.RunEpoch(TestContext.Current.CancellationToken);
        EpochMetrics? b = channelsLast.RunEpoch(TestContext.Current.CancellationToken);

        Assert.Equal(4, channelsLast.StepLosses.Count);
        for (int i = 0; i < plain.StepLosses.Count; i++)
            Assert.True(Math.Abs(plain.StepLosses[i] - channelsLast.StepLosses[i]) < 1e-3, $"step {i + 1}: {plain.StepLosses[i]} vs {channelsLast.StepLosses[i]}");
        Assert.Equal(a!.ValTop1, b!.ValTop1);
        Assert.All(channelsLast.Model.parameters().Where(p => p.dim() == 4), p => Assert.True(ChannelsLast.Is(p)));
    }

    [Fact]
    public void SaveCheckpoint_RoundTrip_RestoresWeightsMomentumAndState()
    {
        string checkpoint = Path.Combine(_directory, "round-trip");
        using TrainingSession original = NewSession(1, epochs: 2, amp: AmpMode.Fp16, trainCount: 64);
        original.RunEpoch(TestContext.Current.CancellationToken);
        original.SaveCheckpoint(checkpoint, TinyTask.Size, zeroInitResidual: false);

        using TrainingSession restored = NewSession(5, epochs: 2, amp: AmpMode.Fp16, trainCount: 64);
        restored.Resume(checkpoint);

        var a = original.Model.state_dict();
        var b = restored.Model.state_dict();
        Assert.Equal(a.Keys, b.Keys);
        Assert.All(a.Keys, k => Assert.True(a[k].allclose(b[k], rtol: 0, atol: 0), k));
        Assert.Equal(original.LossScaler!.State, restored.LossScaler!.State);
        Assert.Equal((1, 0L, 2L), (restored.Epoch, restored.Position, restored.GlobalStep));
        Assert.Single(restored.History);
        Assert.Equal(original.History[0], restored.History[0]);
        CheckpointState state = CheckpointStore.ReadState(checkpoint);
        Assert.Equal("resnet-tiny", state.Arch);
        Assert.Equal(TinyTask.Classes, state.Classes);
    }

    [Fact]
    public void Resume_OtherArchitecture_FailsWithAClearMessage()
    {
        string checkpoint = Path.Combine(_directory, "arch");
        using (TrainingSession session = NewSession(1, epochs: 1))
            session.SaveCheckpoint(checkpoint, TinyTask.Size, false);
        using var model = new ResNet(ResNetSpec.Parse("resnet18-small"), TinyTask.Classes);
        using var other = new TrainingSession(model, TinyTask.Source(64, 1, 32, true), null, TrainingRecipe.Create(1, 32),
                                              new SessionOptions(), CPU);
        var error = Assert.Throws<InvalidDataException>(() => other.Resume(checkpoint));
        Assert.Contains("resnet-tiny", error.Message, StringComparison.Ordinal);
    }
}
