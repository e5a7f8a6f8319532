using static TorchSharp.torch;

namespace Loader.Trainer.Data;

/// <summary>
/// One batch of random images and labels made once on the device and served every step: the compute ceiling, with
/// no decode or copy in the way (what NVIDIA's --data-backend synthetic measures). Channels-last when asked, so the
/// step does not convert them.
/// </summary>
public sealed class SyntheticBatchSource : IBatchSource
{
    private readonly Tensor _images;
    private readonly Tensor _labels;
    private readonly int _batch;

    public SyntheticBatchSource(int batch, int imageSize, int classes, int batchesPerEpoch, Device device, ulong seed, bool channelsLast = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchesPerEpoch, 1);
        using var generator = new Generator(seed, CPU);
        Tensor images = randn([batch, 3, imageSize, imageSize], generator: generator).to(device);
        if (channelsLast)
        {
            _images = Models.ChannelsLast.Copy(images);
            images.Dispose();
        }
        else
        {
            _images = images;
        }
        _labels = randint(0, classes, [batch], generator: generator, dtype: ScalarType.Int64).to(device);
        _batch = batch;
        ClassCount = classes;
        BatchesPerEpoch = batchesPerEpoch;
    }

    public int ClassCount { get; }

    public long SamplesPerEpoch => (long)_batch * BatchesPerEpoch;

    public int BatchesPerEpoch { get; }

    public IEnumerable<TrainingBatch> ReadEpoch(int epoch, long position)
    {
        for (long p = position; p < SamplesPerEpoch; p += _batch)
            yield return new TrainingBatch(_images, _labels, _batch, p + _batch);
    }

    public void Dispose()
    {
        _images.Dispose();
        _labels.Dispose();
    }
}
