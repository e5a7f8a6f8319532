using Loader.Trainer.Models;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Models;

public class ChannelsLastTests
{
    [Fact]
    public void Copy_SameValuesWithChannelsLastStrides()
    {
        using Tensor x = randn([2, 3, 5, 7]);
        using Tensor y = ChannelsLast.Copy(x);

        Assert.Equal(x.shape, y.shape);
        Assert.True(x.allclose(y, rtol: 0, atol: 0));
        Assert.Equal([105L, 1L, 21L, 3L], y.stride()); // N: H*W*C, C: 1, H: W*C, W: C
        Assert.True(ChannelsLast.Is(y));
        Assert.False(ChannelsLast.Is(x));
    }

    [Fact]
    public void Is_IgnoresTheStridesOfSizeOneDimensions()
    {
        // A 1x1 convolution weight or a one-channel image is both layouts at once (libtorch says the same).
        using Tensor pointwise = randn([8, 4, 1, 1]);
        using Tensor oneChannel = randn([2, 1, 4, 4]);
        Assert.True(ChannelsLast.Is(pointwise));
        Assert.False(ChannelsLast.Is(oneChannel.expand(2, 3, 4, 4)));
        Assert.False(ChannelsLast.Is(randn([3, 4, 5])));
    }

    [Fact]
    public void ConvertModel_KeepsTheParameterObjectsValuesAndOutputs()
    {
        manual_seed(11);
        using var model = new ResNet(ResNetSpec.Parse("resnet-tiny"), 5);
        model.eval();
        using Tensor input = randn([2, 3, 16, 16]);
        using Tensor before = model.forward(input);
        var parameters = model.parameters().ToArray();
        var values = parameters.Select(p => p.detach().clone()).ToArray();

        ChannelsLast.ConvertModel(model);

        var after = model.parameters().ToArray();
        for (int i = 0; i < parameters.Length; i++)
        {
            Assert.Equal(parameters[i].Handle, after[i].Handle);
            Assert.True(values[i].allclose(after[i], rtol: 0, atol: 0));
            if (after[i].dim() == 4) Assert.True(ChannelsLast.Is(after[i]));
        }
        using Tensor output = model.forward(ChannelsLast.Copy(input));
        Assert.True(before.allclose(output, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void WhileContiguous_PlainDuringTheAction_ChannelsLastAfterEvenWhenItThrows()
    {
        using Tensor weight = ChannelsLast.Copy(randn([4, 3, 3, 3]));
        using Tensor bias = randn([4]);
        Assert.Throws<InvalidOperationException>(() => ChannelsLast.WhileContiguous([weight, bias], () =>
        {
            Assert.True(weight.is_contiguous());
            throw new InvalidOperationException("save failed");
        }));
        Assert.True(ChannelsLast.Is(weight));
    }
}
