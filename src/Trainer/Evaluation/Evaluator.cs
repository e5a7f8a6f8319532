using System.Diagnostics;
using Loader.Trainer.Data;
using Loader.Trainer.Precision;
using Loader.Trainer.Training;
using static TorchSharp.torch;

namespace Loader.Trainer.Evaluation;

/// <summary>Top-1 and top-5 accuracy and mean cross-entropy (no smoothing) of a model over a whole data set.</summary>
public static class Evaluator
{
    /// <summary>Evaluates the first <paramref name="maxSamples"/> samples of <paramref name="source"/> (all by default;
    /// a rank of a distributed job stops at its share, before the loader's padding).</summary>
    public static EvalResult Evaluate(nn.Module<Tensor, Tensor> model, IBatchSource source, Device device, AmpMode amp, int classes,
                                      long maxSamples = long.MaxValue)
    {
        bool wasTraining = model.training;
        model.eval();
        var clock = Stopwatch.StartNew();
        using Tensor correct1 = zeros(1, ScalarType.Int64, device);
        using Tensor correct5 = zeros(1, ScalarType.Int64, device);
        using Tensor lossSum = zeros(1, ScalarType.Float64, device);
        long samples = 0;
        int k = Math.Min(5, classes);
        using (no_grad())
        {
            foreach (TrainingBatch batch in source.ReadEpoch(0, 0))
            {
                if (samples >= maxSamples) break;
                using var scope = NewDisposeScope();
                int count = (int)Math.Min(batch.Count, maxSamples - samples);
                Tensor images = count == batch.Count ? batch.Images : batch.Images.narrow(0, 0, count);
                Tensor labels = count == batch.Count ? batch.Labels : batch.Labels.narrow(0, 0, count);
                Tensor logits;
                using (AutocastScope.Enter(amp, device))
                    logits = model.forward(images);
                logits = logits.to_type(ScalarType.Float32);
                lossSum.add_(nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).to_type(ScalarType.Float64));
                (Tensor _, Tensor top) = logits.topk(k, dim: 1);
                Tensor hits = top.eq(labels.unsqueeze(1));
                correct1.add_(hits.narrow(1, 0, 1).sum());
                correct5.add_(hits.sum());
                samples += count;
            }
        }
        model.train(wasTraining);
        if (samples == 0) return new EvalResult(0, 0, 0, 0, 0);
        return new EvalResult(
            100.0 * correct1.item<long>() / samples,
            100.0 * correct5.item<long>() / samples,
            lossSum.item<double>() / samples,
            samples,
            samples / clock.Elapsed.TotalSeconds);
    }
}
