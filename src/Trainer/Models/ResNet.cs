using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Loader.Trainer.Models;

/// <summary>
/// torchvision's ResNet written as TorchSharp modules, with exactly torchvision's state_dict keys (conv1, bn1,
/// layer1.0.conv1, ..., layerN.0.downsample.0/1, fc), so weights move to and from PyTorch unchanged.
/// </summary>
public sealed class ResNet : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d _conv1;
    private readonly BatchNorm2d _bn1;
    private readonly MaxPool2d? _maxpool;
    private readonly Sequential[] _layers;
    private readonly Linear _fc;

    public ResNet(ResNetSpec spec, int classes, bool zeroInitResidual = false) : base("ResNet")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        Spec = spec;
        Classes = classes;
        long width = spec.BaseWidth;
        _conv1 = spec.SmallInputStem
            ? nn.Conv2d(3, width, 3, stride: 1, padding: 1, bias: false)
            : nn.Conv2d(3, width, 7, stride: 2, padding: 3, bias: false);
        _bn1 = nn.BatchNorm2d(width);
        _maxpool = spec.SmallInputStem ? null : nn.MaxPool2d(3, stride: 2, padding: 1);
        register_module("conv1", _conv1);
        register_module("bn1", _bn1);
        if (_maxpool != null) register_module("maxpool", _maxpool);

        long inPlanes = width;
        _layers = new Sequential[4];
        for (int stage = 0; stage < 4; stage++)
        {
            long planes = width << stage;
            long stride = stage == 0 ? 1 : 2;
            var blocks = new List<nn.Module<Tensor, Tensor>>();
            for (int b = 0; b < spec.Layers[stage]; b++)
            {
                long blockStride = b == 0 ? stride : 1;
                Sequential? downsample = null;
                if (b == 0 && (blockStride != 1 || inPlanes != planes * spec.Expansion))
                    downsample = nn.Sequential(
                        nn.Conv2d(inPlanes, planes * spec.Expansion, 1, stride: blockStride, bias: false),
                        nn.BatchNorm2d(planes * spec.Expansion));
                blocks.Add(spec.Block == BlockKind.Bottleneck
                    ? new Bottleneck(inPlanes, planes, blockStride, downsample)
                    : new BasicBlock(inPlanes, planes, blockStride, downsample));
                inPlanes = planes * spec.Expansion;
            }
            _layers[stage] = nn.Sequential(blocks);
            register_module($"layer{stage + 1}", _layers[stage]);
        }
        FeatureCount = inPlanes;
        _fc = nn.Linear(inPlanes, classes);
        register_module("fc", _fc);
        Initialize(zeroInitResidual);
    }

    public ResNetSpec Spec { get; }

    public int Classes { get; }

    public long FeatureCount { get; }

    public override Tensor forward(Tensor input)
    {
        Tensor x = _bn1.forward(_conv1.forward(input)).relu_();
        if (_maxpool != null) x = _maxpool.forward(x);
        foreach (Sequential layer in _layers) x = layer.forward(x);
        x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1);
        return _fc.forward(x);
    }

    /// <summary>torchvision's initialisation: Kaiming-normal (fan_out) convolutions, BN gamma 1 and beta 0.</summary>
    private void Initialize(bool zeroInitResidual)
    {
        using var noGrad = no_grad();
        foreach ((string _, nn.Module module) in named_modules())
        {
            if (module is Conv2d conv)
            {
                nn.init.kaiming_normal_(conv.weight!, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
            }
            else if (module is BatchNorm2d bn)
            {
                bn.weight!.fill_(1);
                bn.bias!.zero_();
            }
        }
        if (!zeroInitResidual) return;
        // Each residual branch starts at zero, so every block starts as the identity (Goyal et al., 2017).
        foreach ((string _, nn.Module module) in named_modules())
        {
            if (module is BasicBlock basic) basic.LastNorm.weight!.zero_();
            else if (module is Bottleneck bottleneck) bottleneck.LastNorm.weight!.zero_();
        }
    }
}
