using Loader.Trainer.Models;
using TorchSharp.PyBridge;

namespace Loader.Trainer.Tests.Models;

public sealed class PyTorchWeightsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trainer-weights-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Load_SameArchitecture_RestoresEveryTensor()
    {
        string path = Path.Combine(_directory, "tiny.pt");
        using var source = new ResNet(ResNetSpec.Parse("resnet-tiny"), 3);
        source.save_py(path);
        using var target = new ResNet(ResNetSpec.Parse("resnet-tiny"), 3);

        PyTorchWeights.Load(target, path);

        var a = source.state_dict();
        var b = target.state_dict();
        Assert.All(a.Keys, k => Assert.True(a[k].allclose(b[k], rtol: 0, atol: 0), k));
    }

    [Fact]
    public void Load_OtherClassCount_NamesTheTensorAndBothShapes()
    {
        // PyBridge alone would copy the 3 rows of fc into the 4-row fc and say nothing.
        string path = Path.Combine(_directory, "three.pt");
        using (var three = new ResNet(ResNetSpec.Parse("resnet-tiny"), 3)) three.save_py(path);
        using var four = new ResNet(ResNetSpec.Parse("resnet-tiny"), 4);

        var error = Assert.Throws<InvalidDataException>(() => PyTorchWeights.Load(four, path));

        Assert.Contains("fc.weight has shape [3, 128]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[4, 128]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_OtherArchitecture_Fails()
    {
        string path = Path.Combine(_directory, "small.pt");
        using (var small = new ResNet(ResNetSpec.Parse("resnet18-small"), 3)) small.save_py(path);
        using var tiny = new ResNet(ResNetSpec.Parse("resnet-tiny"), 3);
        Assert.Throws<InvalidDataException>(() => PyTorchWeights.Load(tiny, path));
    }
}
