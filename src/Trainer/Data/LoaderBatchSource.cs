using Loader.Augment;
using Loader.Pipeline;
using Loader.Trainer.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace Loader.Trainer.Data;

/// <summary>
/// Batches from the record loader (Loader.Pipeline.DataLoader). Each batch is copied from the loader's pinned slot
/// into one tensor allocated up front (on the training device when it is the CPU; through a pinned staging tensor
/// otherwise), so a step allocates nothing for its input. With an NHWC output spec the batches are channels-last
/// (NHWC in memory, served as an NCHW view: see <see cref="Models.ChannelsLast"/>), straight from the loader.
/// </summary>
public sealed class LoaderBatchSource : IBatchSource
{
    private readonly LoaderOptions _options;
    private readonly Device _device;
    private readonly Tensor _hostImages;
    private readonly Tensor _hostLabels;
    private readonly Tensor? _deviceImages;
    private readonly Tensor? _deviceLabels;
    private readonly long[] _labelScratch;
    private readonly bool _channelsLast;
    private DataLoader _loader;

    public LoaderBatchSource(LoaderOptions options, Device device)
    {
        if (options.Output.Type != PixelType.Float32)
            throw new ArgumentException("the trainer takes float32 batches from the CPU loader (NCHW, or NHWC for channels-last).");
        _options = options;
        _device = device;
        _channelsLast = options.Output.Layout == PixelLayout.Nhwc;
        _loader = DataLoader.Create(options);
        long[] shape = _channelsLast
            ? [options.BatchSize, options.Output.Height, options.Output.Width, 3]
            : [options.BatchSize, 3, options.Output.Height, options.Output.Width];
        _hostImages = zeros(shape, ScalarType.Float32);
        _hostLabels = zeros([options.BatchSize], ScalarType.Int64);
        if (device.type != DeviceType.CPU)
        {
            _deviceImages = zeros(shape, ScalarType.Float32, device);
            _deviceLabels = zeros([options.BatchSize], ScalarType.Int64, device);
        }
        _labelScratch = new long[options.BatchSize];
    }

    public int ClassCount => _loader.ClassCount;

    public long SamplesPerEpoch => _loader.SamplesPerEpoch;

    /// <summary>Samples in the data set (all ranks' shares together).</summary>
    public long DatasetSize => _loader.DatasetSize;

    public int BatchesPerEpoch => _loader.BatchesPerEpoch;

    public LoaderMetrics Metrics => _loader.Metrics;

    public IEnumerable<TrainingBatch> ReadEpoch(int epoch, long position)
    {
        var wanted = new LoaderState(_options.Seed, epoch, position);
        if (_loader.State != wanted)
        {
            _loader.Dispose();
            _loader = DataLoader.Create(_options, wanted);
        }
        Tensor? imagesView = null, labelsView = null;
        try
        {
            foreach (Batch batch in _loader)
            {
                using (batch)
                {
                    CopyIn(batch);
                }
                imagesView?.Dispose();
                labelsView?.Dispose();
                Tensor images = _deviceImages ?? _hostImages;
                Tensor labels = _deviceLabels ?? _hostLabels;
                imagesView = ImagesView(images, batch.Count);
                labelsView = batch.Count == _options.BatchSize ? null : labels.narrow(0, 0, batch.Count);
                // At the end of an epoch the loader's state has already moved on to (epoch + 1, 0).
                long after = batch.StateAfter.Epoch == epoch ? batch.StateAfter.Position : batch.Position + batch.Count;
                yield return new TrainingBatch(imagesView ?? images, labelsView ?? labels, batch.Count, after);
            }
        }
        finally
        {
            imagesView?.Dispose();
            labelsView?.Dispose();
        }
    }

    /// <summary>A view of the first <paramref name="count"/> images, NCHW-shaped (channels-last ones permuted into
    /// that shape); null when the whole NCHW tensor serves as it is.</summary>
    private Tensor? ImagesView(Tensor images, int count)
    {
        bool whole = count == _options.BatchSize;
        if (!_channelsLast) return whole ? null : images.narrow(0, 0, count);
        using Tensor? part = whole ? null : images.narrow(0, 0, count);
        return (part ?? images).permute(0, 3, 1, 2);
    }

    private unsafe void CopyIn(Batch batch)
    {
        ReadOnlySpan<int> labels = batch.Labels;
        for (int i = 0; i < labels.Length; i++) _labelScratch[i] = labels[i];
        nint imageDestination = TensorNative.THSTensor_data(_hostImages.Handle);
        nint labelDestination = TensorNative.THSTensor_data(_hostLabels.Handle);
        long imageBytes = (long)batch.Count * batch.Output.BytesPerSample;
        Buffer.MemoryCopy((void*)batch.ImagesPointer, (void*)imageDestination, _hostImages.NumberOfElements * sizeof(float), imageBytes);
        fixed (long* source = _labelScratch)
            Buffer.MemoryCopy(source, (void*)labelDestination, _labelScratch.Length * sizeof(long), labels.Length * sizeof(long));
        if (_deviceImages is null || _deviceLabels is null) return;
        using Tensor hostImages = _hostImages.narrow(0, 0, batch.Count);
        using Tensor hostLabels = _hostLabels.narrow(0, 0, batch.Count);
        using Tensor deviceImages = _deviceImages.narrow(0, 0, batch.Count);
        using Tensor deviceLabels = _deviceLabels.narrow(0, 0, batch.Count);
        deviceImages.copy_(hostImages);
        deviceLabels.copy_(hostLabels);
    }

    public void Dispose()
    {
        _loader.Dispose();
        _hostImages.Dispose();
        _hostLabels.Dispose();
        _deviceImages?.Dispose();
        _deviceLabels?.Dispose();
    }
}
