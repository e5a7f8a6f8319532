using static TorchSharp.torch;

namespace Loader.Trainer.Data;

/// <summary>
/// An in-memory data set of tensors (images [N, 3, H, W], int64 labels [N]), shuffled per epoch with a generator
/// seeded by (seed, epoch) so any epoch, and any position in it, can be replayed. For small data sets and tests.
/// </summary>
public sealed class TensorBatchSource : IBatchSource
{
    private readonly Tensor _images;
    private readonly Tensor _labels;
    private readonly int _batch;
    private readonly bool _shuffle;
    private readonly ulong _seed;

    public TensorBatchSource(Tensor images, Tensor labels, int classes, int batch, bool shuffle, ulong seed)
    {
        if (images.shape[0] != labels.shape[0]) throw new ArgumentException("images and labels differ in count.");
        _images = images;
        _labels = labels;
        _batch = batch;
        _shuffle = shuffle;
        _seed = seed;
        ClassCount = classes;
    }

    public int ClassCount { get; }

    public long SamplesPerEpoch => _images.shape[0];

    public int BatchesPerEpoch => (int)((SamplesPerEpoch + _batch - 1) / _batch);

    public IEnumerable<TrainingBatch> ReadEpoch(int epoch, long position)
    {
        Tensor order;
        if (_shuffle)
        {
            using var generator = new Generator(unchecked(_seed * 1_000_003UL + (ulong)epoch), CPU);
            order = randperm(SamplesPerEpoch, generator: generator).to(_images.device);
        }
        else
        {
            order = arange(SamplesPerEpoch, dtype: ScalarType.Int64, device: _images.device);
        }
        using (order)
        {
            for (long start = position; start < SamplesPerEpoch; start += _batch)
            {
                long count = Math.Min(_batch, SamplesPerEpoch - start);
                using Tensor indices = order.narrow(0, start, count);
                using Tensor images = _images.index_select(0, indices);
                using Tensor labels = _labels.index_select(0, indices);
                yield return new TrainingBatch(images, labels, (int)count, start + count);
            }
        }
    }

    public void Dispose()
    {
        _images.Dispose();
        _labels.Dispose();
    }
}
