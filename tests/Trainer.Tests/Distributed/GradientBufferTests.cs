using Loader.Trainer.Distributed;
using Loader.Trainer.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Distributed;

/// <summary>The flat gradient buffer in one process: the views, their layout, and that autograd keeps writing into them.</summary>
public sealed class GradientBufferTests
{
    private static (ResNet Model, Parameter[] Parameters) Model(bool channelsLast)
    {
        manual_seed(4);
        var model = new ResNet(ResNetSpec.Parse("resnet-tiny"), 4);
        if (channelsLast) ChannelsLast.ConvertModel(model);
        return (model, [.. model.parameters()]);
    }

    /// <summary>Steps as TrainingSession does: the optimizer's zero_grad (which zeroes in place; Module.zero_grad
    /// sets the gradients to null, which DataParallel detects), forward, backward.</summary>
    private static Tensor[] Gradients(ResNet model, Parameter[] parameters, int steps)
    {
        using var optimizer = optim.SGD(parameters, 0.1, momentum: 0.9);
        using var generator = new Generator(8, CPU);
        for (int step = 0; step < steps; step++)
        {
            using Tensor images = randn([4, 3, 16, 16], generator: generator);
            using Tensor labels = randint(0, 4, [4], generator: generator, dtype: ScalarType.Int64);
            optimizer.zero_grad();
            using Tensor loss = nn.functional.cross_entropy(model.forward(images), labels);
            loss.backward();
        }
        return [.. parameters.Select(p => p.grad!.clone())];
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Backward_IntoFlatBuffer_GivesTheSameGradientsInTheParametersLayout(bool channelsLast)
    {
        (ResNet plainModel, Parameter[] plain) = Model(channelsLast);
        Tensor[] expected = Gradients(plainModel, plain, steps: 3);

        (ResNet model, Parameter[] parameters) = Model(channelsLast);
        using var buffer = new GradientBuffer(parameters, fusionBytes: 10_000, worldSize: 1);
        Tensor[] actual = Gradients(model, parameters, steps: 3);

        Assert.True(buffer.IsAttached(), "a gradient left the flat buffer after zero_grad + backward");
        Assert.Single(buffer.Flat);
        Assert.Equal(parameters.Sum(p => p.NumberOfElements), buffer.Flat[0].NumberOfElements);
        Assert.Equal((int)Math.Ceiling(buffer.Flat[0].NumberOfElements * 4 / 10_000.0), buffer.BucketCount);
        for (int i = 0; i < parameters.Length; i++)
        {
            Assert.True(expected[i].allclose(actual[i], rtol: 1e-5, atol: 1e-6), $"parameter {i}");
            using Tensor grad = parameters[i].grad!;
            Assert.Equal(parameters[i].stride(), grad.stride());
        }
    }

    [Fact]
    public void Views_AreDisjointSlicesOfTheBuffer()
    {
        (ResNet _, Parameter[] parameters) = Model(channelsLast: false);
        using var buffer = new GradientBuffer(parameters, GradientBuffer.DefaultFusionBytes, worldSize: 1);
        for (int i = 0; i < parameters.Length; i++)
        {
            using Tensor grad = parameters[i].grad!;
            grad.fill_(i + 1);
        }
        // Every parameter's value appears exactly numel times: no two views overlap.
        for (int i = 0; i < parameters.Length; i++)
            Assert.Equal(parameters[i].NumberOfElements, buffer.Flat[0].eq(i + 1).sum().item<long>());
        Assert.Equal(1, buffer.BucketCount);
    }
}
