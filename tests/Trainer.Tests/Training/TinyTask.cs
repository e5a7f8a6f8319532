using Loader.Trainer.Data;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Training;

/// <summary>
/// A small real classification task: class c lights up quadrant c of a 16x16 image (in colour channel c % 3) over
/// Gaussian noise. Learnable in a few hundred steps by a tiny ResNet, not by chance (25%).
/// </summary>
internal static class TinyTask
{
    public const int Classes = 4;
    public const int Size = 16;

    public static (Tensor Images, Tensor Labels) Make(int count, ulong seed)
    {
        using var generator = new Generator(seed, CPU);
        Tensor labels = randint(0, Classes, [count], generator: generator, dtype: ScalarType.Int64);
        Tensor images = randn([count, 3, Size, Size], generator: generator);
        long[] label = labels.data<long>().ToArray();
        using (no_grad())
            for (int i = 0; i < count; i++)
            {
                int c = (int)label[i];
                int y = c / 2 * (Size / 2), x = c % 2 * (Size / 2);
                using Tensor quadrant = images[i, c % 3].narrow(0, y, Size / 2).narrow(1, x, Size / 2);
                quadrant.add_(1.5);
            }
        return (images, labels);
    }

    public static TensorBatchSource Source(int count, ulong seed, int batch, bool shuffle)
    {
        (Tensor images, Tensor labels) = Make(count, seed);
        return new TensorBatchSource(images, labels, Classes, batch, shuffle, seed);
    }
}
