using static TorchSharp.torch;

namespace Loader.Trainer.Recipe;

/// <summary>
/// MixUp (Zhang et al.): each image is blended with another of the same batch, x = lambda * x + (1 - lambda) * x[perm],
/// lambda ~ Beta(alpha, alpha). The draws come from a generator seeded per step, so a resumed run mixes identically.
/// </summary>
public static class MixUp
{
    public readonly record struct Mixed(Tensor Images, Tensor LabelsA, Tensor LabelsB, double Lambda);

    public static Mixed Apply(Tensor images, Tensor labels, double alpha, ulong seed, long step)
    {
        var random = new Random(unchecked((int)(seed * 0x9E3779B97F4A7C15UL ^ (ulong)step)));
        double lambda = SampleBeta(random, alpha);
        using var generator = new Generator(unchecked((ulong)step * 6364136223846793005UL + seed), images.device);
        Tensor permutation = randperm(images.shape[0], generator: generator, device: images.device);
        Tensor mixed = (images * lambda).add_(images.index_select(0, permutation) * (1 - lambda));
        return new Mixed(mixed, labels, labels.index_select(0, permutation), lambda);
    }

    /// <summary>Beta(a, a) as X / (X + Y) with X, Y ~ Gamma(a, 1).</summary>
    public static double SampleBeta(Random random, double alpha)
    {
        double x = SampleGamma(random, alpha);
        double y = SampleGamma(random, alpha);
        return x + y == 0 ? 0.5 : x / (x + y);
    }

    /// <summary>Marsaglia and Tsang's method; for shape &lt; 1, Gamma(a) = Gamma(a + 1) * U^(1/a).</summary>
    private static double SampleGamma(Random random, double shape)
    {
        if (shape < 1) return SampleGamma(random, shape + 1) * Math.Pow(random.NextDouble(), 1 / shape);
        double d = shape - (1.0 / 3), c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = SampleNormal(random);
                v = 1 + (c * x);
            } while (v <= 0);
            v = v * v * v;
            double u = random.NextDouble();
            if (u < 1 - (0.0331 * x * x * x * x) || Math.Log(u) < (0.5 * x * x) + (d * (1 - v + Math.Log(v)))) return d * v;
        }
    }

    private static double SampleNormal(Random random)
    {
        double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
