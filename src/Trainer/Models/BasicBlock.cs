using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Loader.Trainer.Models;

/// <summary>torchvision's BasicBlock (ResNet-18/34): two 3x3 convolutions; the first carries the stride.</summary>
internal sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d _conv1;
    private readonly BatchNorm2d _bn1;
    private readonly Conv2d _conv2;
    private readonly BatchNorm2d _bn2;
    private readonly Sequential? _downsample;

    public BasicBlock(long inPlanes, long planes, long stride, Sequential? downsample) : base(nameof(BasicBlock))
    {
        _conv1 = nn.Conv2d(inPlanes, planes, 3, stride: stride, padding: 1, bias: false);
        _bn1 = nn.BatchNorm2d(planes);
        _conv2 = nn.Conv2d(planes, planes, 3, stride: 1, padding: 1, bias: false);
        _bn2 = nn.BatchNorm2d(planes);
        _downsample = downsample;
        // Explicit names: these are torchvision's state_dict keys.
        register_module("conv1", _conv1);
        register_module("bn1", _bn1);
        register_module("conv2", _conv2);
        register_module("bn2", _bn2);
        if (downsample != null) register_module("downsample", downsample);
    }

    /// <summary>The BN whose gamma starts at zero with zero-init-residual, so the block starts as the identity.</summary>
    public BatchNorm2d LastNorm => _bn2;

    public override Tensor forward(Tensor input)
    {
        Tensor identity = _downsample is null ? input : _downsample.forward(input);
        Tensor output = _bn1.forward(_conv1.forward(input)).relu_();
        output = _bn2.forward(_conv2.forward(output));
        return output.add_(identity).relu_();
    }
}
