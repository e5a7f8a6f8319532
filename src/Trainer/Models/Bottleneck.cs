using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Loader.Trainer.Models;

/// <summary>
/// torchvision's Bottleneck, ResNet v1.5: 1x1 reduce, 3x3, 1x1 expand (x4); the stride sits on the 3x3 convolution
/// (v1 put it on the first 1x1), which is what makes v1.5 about 0.5% more accurate.
/// </summary>
internal sealed class Bottleneck : nn.Module<Tensor, Tensor>
{
    public const int Expansion = 4;

    private readonly Conv2d _conv1;
    private readonly BatchNorm2d _bn1;
    private readonly Conv2d _conv2;
    private readonly BatchNorm2d _bn2;
    private readonly Conv2d _conv3;
    private readonly BatchNorm2d _bn3;
    private readonly Sequential? _downsample;

    public Bottleneck(long inPlanes, long planes, long stride, Sequential? downsample) : base(nameof(Bottleneck))
    {
        _conv1 = nn.Conv2d(inPlanes, planes, 1, bias: false);
        _bn1 = nn.BatchNorm2d(planes);
        _conv2 = nn.Conv2d(planes, planes, 3, stride: stride, padding: 1, bias: false);
        _bn2 = nn.BatchNorm2d(planes);
        _conv3 = nn.Conv2d(planes, planes * Expansion, 1, bias: false);
        _bn3 = nn.BatchNorm2d(planes * Expansion);
        _downsample = downsample;
        register_module("conv1", _conv1);
        register_module("bn1", _bn1);
        register_module("conv2", _conv2);
        register_module("bn2", _bn2);
        register_module("conv3", _conv3);
        register_module("bn3", _bn3);
        if (downsample != null) register_module("downsample", downsample);
    }

    public BatchNorm2d LastNorm => _bn3;

    public override Tensor forward(Tensor input)
    {
        Tensor identity = _downsample is null ? input : _downsample.forward(input);
        Tensor output = _bn1.forward(_conv1.forward(input)).relu_();
        output = _bn2.forward(_conv2.forward(output)).relu_();
        output = _bn3.forward(_conv3.forward(output));
        return output.add_(identity).relu_();
    }
}
