using Loader.Trainer.Precision;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Precision;

public sealed class AutocastScopeTests
{
    [Fact]
    public void Enter_Bf16_ConvolutionRunsInBf16AndGradientsStayFp32()
    {
        using var conv = nn.Conv2d(3, 4, 3);
        using Tensor input = randn(2, 3, 8, 8);
        Tensor output;
        using (AutocastScope.Enter(AmpMode.Bf16, CPU))
        {
            Assert.True(AutocastScope.IsEnabled(CPU));
            output = conv.forward(input);
        }
        Assert.False(AutocastScope.IsEnabled(CPU));
        Assert.Equal(ScalarType.BFloat16, output.dtype);
        output.to_type(ScalarType.Float32).sum().backward();
        Assert.Equal(ScalarType.Float32, conv.weight!.grad!.dtype);
        Assert.Equal(ScalarType.Float32, conv.forward(input).dtype);
    }

    [Fact]
    public void Enter_Off_ReturnsNoScope()
    {
        Assert.Null(AutocastScope.Enter(AmpMode.Off, CPU));
    }

    [Fact]
    public void Enter_Nested_RestoresTheOuterScope()
    {
        using (AutocastScope.Enter(AmpMode.Bf16, CPU))
        {
            using (AutocastScope.Enter(AmpMode.Fp16, CPU)) { }
            Assert.True(AutocastScope.IsEnabled(CPU));
            using var conv = nn.Conv2d(1, 1, 1);
            Assert.Equal(ScalarType.BFloat16, conv.forward(ones(1, 1, 2, 2)).dtype);
        }
        Assert.False(AutocastScope.IsEnabled(CPU));
    }
}
