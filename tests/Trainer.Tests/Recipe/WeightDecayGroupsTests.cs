using Loader.Trainer.Models;
using Loader.Trainer.Recipe;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Recipe;

public sealed class WeightDecayGroupsTests
{
    [Fact]
    public void Split_ResNet18_DecaysExactlyConvolutionAndLinearWeights()
    {
        using var model = new ResNet(ResNetSpec.Parse("resnet18"), 10);
        var (decay, noDecay) = WeightDecayGroups.Split(model);

        string[] expected = [.. model.named_parameters().Select(p => p.name)
            .Where(n => n == "fc.weight" || n.EndsWith("conv1.weight", StringComparison.Ordinal) ||
                        n.EndsWith("conv2.weight", StringComparison.Ordinal) || n.EndsWith("downsample.0.weight", StringComparison.Ordinal))];
        Assert.Equal(expected.Order(), decay.Select(p => p.Name).Order());
        Assert.Equal(17 + 3 + 1, decay.Count); // 17 convolutions in the trunk, 3 downsample convolutions, fc
        Assert.All(noDecay, p => Assert.True(p.Name.Contains(".bn", StringComparison.Ordinal) || p.Name.StartsWith("bn1", StringComparison.Ordinal) ||
                                             p.Name.EndsWith("downsample.1.weight", StringComparison.Ordinal) || p.Name.EndsWith("downsample.1.bias", StringComparison.Ordinal) ||
                                             p.Name == "fc.bias", p.Name));
        Assert.Contains(noDecay, p => p.Name == "fc.bias");
        Assert.Contains(noDecay, p => p.Name == "layer1.0.bn1.weight");
    }

    [Fact]
    public void CreateOptimizer_StepWithZeroGradients_ShrinksOnlyDecayedWeights()
    {
        using var model = new ResNet(ResNetSpec.Parse("resnet-tiny"), 3);
        var recipe = TrainingRecipe.Create(1, 256) with { WeightDecay = 0.01, LearningRatePer256 = 0.5 };
        using var optimizer = WeightDecayGroups.CreateOptimizer(model, recipe);
        // Non-zero BN parameters, so that a wrong decay on them would show.
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (!name.EndsWith("conv1.weight", StringComparison.Ordinal)) p.add_(0.5);
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        foreach (var p in model.parameters()) p.grad = zeros_like(p);

        optimizer.step();

        var (decay, _) = WeightDecayGroups.Split(model);
        var decayed = decay.Select(d => d.Name).ToHashSet();
        foreach (var (name, p) in model.named_parameters())
        {
            // SGD with weight decay: g = 0 + wd * w; first momentum buffer = g; w -= lr * g.
            Tensor expected = decayed.Contains(name) ? before[name] * (1 - (0.5 * 0.01)) : before[name];
            Assert.True(p.detach().allclose(expected, rtol: 1e-6, atol: 1e-7), name);
        }
    }
}
