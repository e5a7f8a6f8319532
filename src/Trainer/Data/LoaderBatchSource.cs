using Loader.Augment;
using Loader.Augment.Cuda;
using Loader.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace Loader.Trainer.Data;

/// <summary>
/// Batches from the CPU record loader, without copying the images: each of the loader's batch slots (fixed,
/// page-aligned memory) gets one tensor that aliases it, made once, so a training step on the CPU reads the
/// images where the decoder wrote them. The batch is held until the step that read it is over (the next
/// iteration) and only then given back to the loader. On a CUDA training device the slots are page-locked
/// (<see cref="LoaderOptions.PinMemory"/>) and each batch is copied to one preallocated device tensor
/// asynchronously on libtorch's stream; the slot goes back to the loader once that copy has finished. Labels
/// (int32 in the slot, int64 for the loss) go through a small preallocated tensor. With an NHWC output spec the
/// batches are channels-last (NHWC in memory, served as an NCHW view: see <see cref="Models.ChannelsLast"/>).
/// </summary>
public sealed class LoaderBatchSource : IBatchSource
{
    private readonly LoaderOptions _options;
    private readonly Tensor _labels;
    private readonly Tensor? _deviceImages;
    private readonly Tensor? _deviceLabels;
    private readonly CudaDevice? _cuda;
    private readonly CudaEvent? _copyDone;
    private readonly Dictionary<nint, Tensor> _slotTensors = [];
    private readonly long[] _imageShape;
    private readonly bool _channelsLast;
    private DataLoader _loader;

    public LoaderBatchSource(LoaderOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(device);
        if (options.Output.Type != PixelType.Float32)
            throw new ArgumentException("the trainer takes float32 batches from the CPU loader (NCHW, or NHWC for channels-last).");
        bool onCuda = device.type == DeviceType.CUDA;
        _options = onCuda ? options with { PinMemory = true, PinMemoryDevice = Math.Max(0, (int)device.index) } : options;
        _channelsLast = options.Output.Layout == PixelLayout.Nhwc;
        _imageShape = _channelsLast
            ? [options.BatchSize, options.Output.Height, options.Output.Width, 3]
            : [options.BatchSize, 3, options.Output.Height, options.Output.Width];
        _loader = DataLoader.Create(_options);
        _labels = zeros([options.BatchSize], ScalarType.Int64);
        if (onCuda)
        {
            _deviceImages = zeros(_imageShape, ScalarType.Float32, device);
            _deviceLabels = zeros([options.BatchSize], ScalarType.Int64, device);
            _cuda = CudaDevice.Open(_options.PinMemoryDevice);
            _copyDone = _cuda.CreateEvent();
        }
    }

    public int ClassCount => _loader.ClassCount;

    public long SamplesPerEpoch => _loader.SamplesPerEpoch;

    /// <summary>Samples in the data set (all ranks' shares together).</summary>
    public long DatasetSize => _loader.DatasetSize;

    public int BatchesPerEpoch => _loader.BatchesPerEpoch;

    public LoaderMetrics Metrics => _loader.Metrics;

    /// <summary>The loader batch behind the training batch last yielded (tests check the tensor aliases it).</summary>
    internal HostBatch? HeldBatch { get; private set; }

    public IEnumerable<TrainingBatch> ReadEpoch(int epoch, long position)
    {
        var wanted = new LoaderState(_options.Seed, epoch, position);
        if (_loader.State != wanted)
        {
            ReleaseSlotTensors();
            _loader.Dispose();
            _loader = DataLoader.Create(_options, wanted);
        }
        Tensor? imagesView = null, labelsView = null;
        try
        {
            foreach (HostBatch batch in _loader)
            {
                HeldBatch = batch;
                Tensor images = Images(batch);
                CopyLabels(batch);
                imagesView?.Dispose();
                labelsView?.Dispose();
                imagesView = View(images, batch.Count);
                Tensor labels = _deviceLabels ?? _labels;
                labelsView = batch.Count == _options.BatchSize ? null : labels.narrow(0, 0, batch.Count);
                // At the end of an epoch the loader's state has already moved on to (epoch + 1, 0).
                long after = batch.StateAfter.Epoch == epoch ? batch.StateAfter.Position : batch.Position + batch.Count;
                yield return new TrainingBatch(imagesView ?? images, labelsView ?? labels, batch.Count, after);
                // The step that read this batch has been queued (CPU: it has run). On CUDA the slot may be refilled
                // once the copy out of it is done: the event follows the copy, not the step, so this waits for the
                // copy only and the step keeps the GPU busy meanwhile.
                _copyDone?.Synchronize();
                HeldBatch = null;
                batch.Dispose();
            }
        }
        finally
        {
            _copyDone?.Synchronize();
            HeldBatch?.Dispose();
            HeldBatch = null;
            imagesView?.Dispose();
            labelsView?.Dispose();
        }
    }

    /// <summary>The tensor the step reads: the slot's own (CPU), or the device copy of it (CUDA).</summary>
    private Tensor Images(HostBatch batch)
    {
        if (!_slotTensors.TryGetValue(batch.ImagesPointer, out Tensor? slot))
        {
            slot = HostTensors.Alias(batch.ImagesPointer, _imageShape, ScalarType.Float32);
            _slotTensors.Add(batch.ImagesPointer, slot);
        }
        if (_deviceImages is null) return slot;

        // Asynchronous from page-locked memory, on libtorch's stream (the legacy default stream, which the step's
        // kernels also run on, so they see the copy finished); the slot is handed back only after the event.
        using (Tensor source = slot.narrow(0, 0, batch.Count))
        using (Tensor target = _deviceImages.narrow(0, 0, batch.Count))
            target.copy_(source, true);
        _cuda!.RecordOn(0, _copyDone!);
        return _deviceImages;
    }

    private unsafe void CopyLabels(Batch batch)
    {
        ReadOnlySpan<int> labels = batch.Labels;
        var destination = new Span<long>((void*)Interop.TensorNative.THSTensor_data(_labels.Handle), _options.BatchSize);
        for (int i = 0; i < labels.Length; i++) destination[i] = labels[i];
        if (_deviceLabels is null) return;
        using Tensor source = _labels.narrow(0, 0, labels.Length);
        using Tensor target = _deviceLabels.narrow(0, 0, labels.Length);
        target.copy_(source);
    }

    /// <summary>A view of the first <paramref name="count"/> images, NCHW-shaped (channels-last ones permuted into
    /// that shape); null when the whole NCHW tensor serves as it is.</summary>
    private Tensor? View(Tensor images, int count)
    {
        bool whole = count == _options.BatchSize;
        if (!_channelsLast) return whole ? null : images.narrow(0, 0, count);
        using Tensor? part = whole ? null : images.narrow(0, 0, count);
        return (part ?? images).permute(0, 3, 1, 2);
    }

    private void ReleaseSlotTensors()
    {
        foreach (Tensor tensor in _slotTensors.Values) tensor.Dispose();
        _slotTensors.Clear();
    }

    public void Dispose()
    {
        ReleaseSlotTensors(); // before the loader frees the memory they alias
        _loader.Dispose();
        _labels.Dispose();
        _deviceImages?.Dispose();
        _deviceLabels?.Dispose();
        _copyDone?.Dispose();
        _cuda?.Dispose();
    }
}
