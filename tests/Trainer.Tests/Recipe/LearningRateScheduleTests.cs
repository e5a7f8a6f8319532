using Loader.Trainer.Recipe;

namespace Loader.Trainer.Tests.Recipe;

public sealed class LearningRateScheduleTests
{
    [Fact]
    public void At_DuringWarmup_RisesLinearlyToTheBaseRate()
    {
        var schedule = new LearningRateSchedule(baseRate: 1.024, warmupSteps: 100, totalSteps: 1000);
        Assert.Equal(1.024 * 1 / 100, schedule.At(0), 12);
        Assert.Equal(1.024 * 50 / 100, schedule.At(49), 12);
        Assert.Equal(1.024, schedule.At(99), 12);
    }

    [Fact]
    public void At_AfterWarmup_FollowsTheCosine()
    {
        var schedule = new LearningRateSchedule(baseRate: 0.256, warmupSteps: 100, totalSteps: 1100);
        Assert.Equal(0.256, schedule.At(100), 12);
        Assert.Equal(0.128, schedule.At(600), 12);
        Assert.Equal(0.256 * 0.5 * (1 + Math.Cos(Math.PI * 0.25)), schedule.At(350), 12);
        Assert.Equal(0.0, schedule.At(1100), 12);
    }

    [Fact]
    public void At_WithoutWarmup_StartsAtTheBaseRate()
    {
        var schedule = new LearningRateSchedule(0.256, 0, 90);
        Assert.Equal(0.256, schedule.At(0), 12);
        Assert.Equal(0.256 * 0.5 * (1 + Math.Cos(Math.PI * 45 / 90)), schedule.At(45), 12);
    }

    [Fact]
    public void Create_Batch256_UsesNvidiaDefaults()
    {
        TrainingRecipe recipe = TrainingRecipe.Create(epochs: 90, globalBatch: 256);
        Assert.Equal(0.256, recipe.BaseLearningRate, 12);
        Assert.Equal(0.875, recipe.Momentum);
        Assert.Equal(1.0 / 32768, recipe.WeightDecay);
        Assert.Equal(0.1, recipe.LabelSmoothing);
        Assert.Equal(0, recipe.WarmupEpochs);
        Assert.Equal(0, recipe.MixUpAlpha);
    }

    [Fact]
    public void Create_LargeBatch_ScalesTheRateAndWarmsUpFiveEpochs()
    {
        TrainingRecipe recipe = TrainingRecipe.Create(epochs: 90, globalBatch: 1024);
        Assert.Equal(1.024, recipe.BaseLearningRate, 12);
        Assert.Equal(5, recipe.WarmupEpochs);
        LearningRateSchedule schedule = recipe.Schedule(stepsPerEpoch: 1251);
        Assert.Equal(5 * 1251, schedule.WarmupSteps);
        Assert.Equal(90 * 1251, schedule.TotalSteps);
        Assert.Equal(1.024 / (5 * 1251), schedule.At(0), 12);
    }

    [Fact]
    public void Create_250Epochs_TurnsMixUpOn()
    {
        Assert.Equal(0.2, TrainingRecipe.Create(250, 256).MixUpAlpha);
        Assert.Equal(0.0, TrainingRecipe.Create(250, 256, mixUpAlpha: 0).MixUpAlpha);
    }
}
