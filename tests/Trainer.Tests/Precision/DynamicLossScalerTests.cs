using Loader.Trainer.Precision;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Precision;

public sealed class DynamicLossScalerTests
{
    [Fact]
    public void Update_Overflow_BacksOffAndCountsASkip()
    {
        var scaler = new DynamicLossScaler(new LossScalerOptions { InitialScale = 1024 });
        scaler.Update(foundOverflow: false);
        scaler.Update(foundOverflow: true);
        Assert.Equal(512, scaler.Scale);
        Assert.Equal(0, scaler.GoodSteps);
        Assert.Equal(1, scaler.SkippedSteps);
    }

    [Fact]
    public void Update_RunOfGoodSteps_GrowsOnceAtTheInterval()
    {
        var scaler = new DynamicLossScaler(new LossScalerOptions { InitialScale = 8, GrowthInterval = 3 });
        scaler.Update(false);
        scaler.Update(false);
        Assert.Equal(8, scaler.Scale);
        scaler.Update(false);
        Assert.Equal(16, scaler.Scale);
        Assert.Equal(0, scaler.GoodSteps);
        scaler.Update(false);
        scaler.Update(true);
        scaler.Update(false);
        scaler.Update(false);
        Assert.Equal(8, scaler.Scale); // the overflow reset the run
    }

    [Fact]
    public void Step_InfiniteGradient_SkipsTheOptimizerStepAndBacksOff()
    {
        using var weight = new Parameter(ones(3));
        using var optimizer = optim.SGD([weight], 0.1);
        var scaler = new DynamicLossScaler(new LossScalerOptions { InitialScale = 4 });
        weight.grad = tensor(new[] { 1f, float.PositiveInfinity, 1f });

        bool stepped = scaler.Step(optimizer, [weight]);

        Assert.False(stepped);
        Assert.True(weight.detach().allclose(ones(3), rtol: 0, atol: 0));
        Assert.Equal(2, scaler.Scale);
        Assert.Equal(1, scaler.SkippedSteps);
    }

    [Fact]
    public void Step_FiniteGradient_UnscalesThenSteps()
    {
        using var weight = new Parameter(ones(2));
        using var optimizer = optim.SGD([weight], 0.5);
        var scaler = new DynamicLossScaler(new LossScalerOptions { InitialScale = 8 });
        weight.grad = tensor(new[] { 8f, 16f }); // a scaled gradient of (1, 2)

        bool stepped = scaler.Step(optimizer, [weight]);

        Assert.True(stepped);
        Assert.True(weight.detach().allclose(tensor(new[] { 0.5f, 0f })));
        Assert.Equal(8, scaler.Scale);
        Assert.Equal(1, scaler.GoodSteps);
    }

    [Fact]
    public void UnscaleGradients_NaN_ReportsOverflow()
    {
        using var weight = new Parameter(ones(2));
        var scaler = new DynamicLossScaler(new LossScalerOptions());
        weight.grad = tensor(new[] { float.NaN, 0f });
        Assert.True(scaler.UnscaleGradients([weight]));
    }

    [Fact]
    public void ScaleLoss_MultipliesByTheScale()
    {
        var scaler = new DynamicLossScaler(new LossScalerOptions { InitialScale = 65536 });
        using Tensor loss = tensor(0.25f);
        Assert.Equal(16384f, scaler.ScaleLoss(loss).item<float>());
    }
}
