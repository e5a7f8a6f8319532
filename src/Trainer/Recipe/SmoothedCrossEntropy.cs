using static TorchSharp.torch;

namespace Loader.Trainer.Recipe;

/// <summary>
/// Cross-entropy with label smoothing (the target puts 1 - eps on the label and eps / classes on every class),
/// computed in fp32 whatever precision the logits came in. With MixUp the loss is the lambda-weighted mix of the
/// losses against both label sets, which equals the loss against the mixed soft target.
/// </summary>
public static class SmoothedCrossEntropy
{
    public static Tensor Loss(Tensor logits, Tensor labels, double smoothing) =>
        nn.functional.cross_entropy(logits.to_type(ScalarType.Float32), labels, label_smoothing: smoothing);

    public static Tensor MixedLoss(Tensor logits, Tensor labelsA, Tensor labelsB, double lambda, double smoothing)
    {
        Tensor logits32 = logits.to_type(ScalarType.Float32);
        return (nn.functional.cross_entropy(logits32, labelsA, label_smoothing: smoothing) * lambda) +
               (nn.functional.cross_entropy(logits32, labelsB, label_smoothing: smoothing) * (1 - lambda));
    }
}
