using Loader.Trainer.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Models;

public sealed class ResNetTests
{
    [Fact]
    public void ResNet50_1000Classes_HasTorchvisionsParameterCount()
    {
        using var model = new ResNet(ResNetSpec.Parse("resnet50"), 1000);
        Assert.Equal(25_557_032, model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void ResNet18_1000Classes_HasTorchvisionsParameterCount()
    {
        using var model = new ResNet(ResNetSpec.Parse("resnet18"), 1000);
        Assert.Equal(11_689_512, model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void ResNet50_StateDict_HasTorchvisionsKeys()
    {
        using var model = new ResNet(ResNetSpec.Parse("resnet50"), 1000);
        var keys = model.state_dict().Keys.ToList();
        Assert.Equal(320, keys.Count); // torchvision: 161 parameters + 159 BN buffers (mean, var, num_batches_tracked)
        Assert.Equal("conv1.weight", keys[0]);
        string[] expected =
        [
            "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
            "layer1.0.conv1.weight", "layer1.0.bn3.weight", "layer1.0.downsample.0.weight", "layer1.0.downsample.1.running_var",
            "layer2.3.conv3.weight", "layer3.5.bn2.bias", "layer4.2.bn3.weight", "layer4.0.downsample.1.weight", "fc.weight", "fc.bias",
        ];
        Assert.All(expected, k => Assert.Contains(k, keys));
        Assert.DoesNotContain(keys, k => k.Contains('_', StringComparison.Ordinal) && k.StartsWith('_'));
    }

    [Fact]
    public void ResNet50_IsV15_StrideOnTheThreeByThree()
    {
        using var model = new ResNet(ResNetSpec.Parse("resnet50"), 1000);
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        Assert.Equal(1, ((Conv2d)modules["layer2.0.conv1"]).stride[0]);
        Assert.Equal(2, ((Conv2d)modules["layer2.0.conv2"]).stride[0]);
        Assert.Equal(2, ((Conv2d)modules["layer2.0.downsample.0"]).stride[0]);
    }

    [Fact]
    public void Forward_AnyClassCount_GivesLogitsPerClass()
    {
        using var model = new ResNet(ResNetSpec.Parse("resnet-tiny"), 7);
        model.eval();
        using Tensor logits = model.forward(randn(2, 3, 32, 32));
        Assert.Equal([2L, 7L], logits.shape);
    }

    [Fact]
    public void ZeroInitResidual_ZerosEachBlocksLastNormGamma()
    {
        using var model = new ResNet(ResNetSpec.Parse("resnet50"), 10, zeroInitResidual: true);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(0, parameters["layer1.0.bn3.weight"].abs().sum().item<float>());
        Assert.Equal(0, parameters["layer4.2.bn3.weight"].abs().sum().item<float>());
        Assert.Equal(64, parameters["layer1.0.bn1.weight"].sum().item<float>());
        Assert.Equal(256, parameters["layer1.0.downsample.1.weight"].sum().item<float>());
    }

    [Fact]
    public void Parse_UnknownArch_NamesTheChoices()
    {
        var error = Assert.Throws<ArgumentException>(() => ResNetSpec.Parse("resnet49"));
        Assert.Contains("resnet50", error.Message, StringComparison.Ordinal);
    }
}
