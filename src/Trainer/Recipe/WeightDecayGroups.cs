using TorchSharp;
using TorchSharp.Modules;

namespace Loader.Trainer.Recipe;

/// <summary>
/// Splits a model's parameters for weight decay: convolution and linear weights decay; BN gammas and betas and all
/// biases do not (decaying them only hurts, and NVIDIA's recipe leaves them out).
/// </summary>
public static class WeightDecayGroups
{
    public static (List<(string Name, Parameter Parameter)> Decay, List<(string Name, Parameter Parameter)> NoDecay) Split(torch.nn.Module model)
    {
        var decayNames = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string name, torch.nn.Module module) in model.named_modules())
            if (module is Conv2d or Linear)
                decayNames.Add(name.Length == 0 ? "weight" : name + ".weight");
        var decay = new List<(string, Parameter)>();
        var noDecay = new List<(string, Parameter)>();
        foreach ((string name, Parameter parameter) in model.named_parameters())
            (decayNames.Contains(name) ? decay : noDecay).Add((name, parameter));
        return (decay, noDecay);
    }

    /// <summary>SGD with the recipe's momentum and the two groups. Call after the model has moved to its device.</summary>
    public static SGD CreateOptimizer(torch.nn.Module model, TrainingRecipe recipe)
    {
        var (decay, noDecay) = Split(model);
        var groups = new[]
        {
            new SGD.ParamGroup(decay.Select(p => p.Parameter), new SGD.Options { LearningRate = recipe.BaseLearningRate, momentum = recipe.Momentum, weight_decay = recipe.WeightDecay }),
            new SGD.ParamGroup(noDecay.Select(p => p.Parameter), new SGD.Options { LearningRate = recipe.BaseLearningRate, momentum = recipe.Momentum, weight_decay = 0 }),
        };
        return torch.optim.SGD(groups, recipe.BaseLearningRate, recipe.Momentum);
    }
}
