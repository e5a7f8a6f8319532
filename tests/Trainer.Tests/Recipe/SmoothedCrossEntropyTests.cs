using Loader.Trainer.Recipe;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Recipe;

public sealed class SmoothedCrossEntropyTests
{
    /// <summary>Reference: q = (1 - eps) * onehot + eps / K; loss = mean over samples of -sum_i q_i log softmax(x)_i.</summary>
    private static double Reference(double[][] logits, int[] labels, double eps)
    {
        double total = 0;
        for (int n = 0; n < logits.Length; n++)
        {
            double[] x = logits[n];
            double max = x.Max();
            double logSum = max + Math.Log(x.Sum(v => Math.Exp(v - max)));
            for (int i = 0; i < x.Length; i++)
            {
                double q = ((i == labels[n] ? 1 - eps : 0) + (eps / x.Length));
                total -= q * (x[i] - logSum);
            }
        }
        return total / logits.Length;
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.0)]
    public void Loss_MatchesTheHandComputedReference(double eps)
    {
        double[][] logits = [[2.0, 1.0, 0.1, -1.5], [0.3, -0.2, 2.5, 0.0], [-1.0, 0.0, 1.0, 3.0]];
        int[] labels = [0, 2, 1];
        using Tensor x = tensor(logits.SelectMany(r => r).Select(v => (float)v).ToArray(), [3, 4]);
        using Tensor y = tensor(labels.Select(v => (long)v).ToArray());

        using Tensor loss = SmoothedCrossEntropy.Loss(x, y, eps);

        Assert.Equal(Reference(logits, labels, eps), loss.item<float>(), 5);
    }

    [Fact]
    public void MixedLoss_IsTheLambdaWeightedLossOfBothLabelSets()
    {
        double[][] logits = [[2.0, 1.0, 0.1], [0.3, -0.2, 2.5]];
        using Tensor x = tensor(logits.SelectMany(r => r).Select(v => (float)v).ToArray(), [2, 3]);
        using Tensor a = tensor(new long[] { 0, 2 });
        using Tensor b = tensor(new long[] { 1, 0 });

        using Tensor loss = SmoothedCrossEntropy.MixedLoss(x, a, b, 0.7, 0.1);

        double expected = (0.7 * Reference(logits, [0, 2], 0.1)) + (0.3 * Reference(logits, [1, 0], 0.1));
        Assert.Equal(expected, loss.item<float>(), 5);
    }

    [Fact]
    public void SampleBeta_HasTheMeanAndSpreadOfBeta02()
    {
        var random = new Random(1);
        double[] draws = [.. Enumerable.Range(0, 20000).Select(_ => MixUp.SampleBeta(random, 0.2))];
        Assert.All(draws, d => Assert.InRange(d, 0, 1));
        Assert.Equal(0.5, draws.Average(), 1);
        // Var(Beta(a, a)) = 1 / (4 (2a + 1)) = 0.1786 for a = 0.2: mass piles up near 0 and 1.
        double variance = draws.Select(d => (d - 0.5) * (d - 0.5)).Average();
        Assert.InRange(variance, 0.165, 0.19);
    }
}
