using Loader.Augment;
using Loader.Augment.Cuda;
using Loader.Pipeline;
using Loader.Trainer.Interop;
using Loader.Trainer.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace Loader.Trainer.Data;

/// <summary>
/// Batches from the loader on a CUDA device (<see cref="DataLoader"/> with <see cref="LoaderDevice.Cuda"/>: nvJPEG
/// decode and one CUDA augment launch per batch, <see cref="DeviceBatch"/>es),
/// never leaving the GPU. The images arrive already in the step's precision (fp16/bf16 under AMP, else fp32).
/// </summary>
/// <remarks>
/// <para>Per batch, all on libtorch's stream (the legacy default stream): the loader has made that stream wait for
/// the batch's ready event when the batch was taken (the host does not block), then this source copies the loader's device slot into
/// this source's input tensor (one device-to-device copy, about 0.1 ms for 256 fp16 images on an H100), then
/// dispose the batch, which records the slot's consumer-done event right after that copy, so the loader may refill
/// the slot while the step still runs. TorchSharp cannot put a tensor over the loader's memory (its from_blob takes
/// host memory only), hence the copy.</para>
/// <para>The input tensors are allocated once and live as long as the source. Every read and write of them is
/// queued on the same stream, so the next batch's copy runs only after the previous step's kernels have read
/// them; no host synchronization is needed anywhere.</para>
/// </remarks>
public sealed class GpuLoaderBatchSource : IBatchSource
{
    private readonly LoaderOptions _options;
    private readonly int _deviceOrdinal;
    private readonly Tensor _images;
    private readonly Tensor _labels;
    private readonly long[] _labelScratch;
    private readonly CudaDevice _device;
    private DataLoader _loader;

    /// <summary>
    /// Opens the GPU loader on <paramref name="device"/> (a CUDA device). Without a usable GPU it fails at once, before
    /// opening any records, with <see cref="GpuAvailability"/>'s message (see <see cref="EnsureAvailable"/>).
    /// </summary>
    public GpuLoaderBatchSource(LoaderOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(device);
        EnsureAvailable();
        if (device.type != DeviceType.CUDA)
            throw new ArgumentException($"--loader gpu writes batches into GPU memory: it trains on a CUDA device, not {device.type}.");
        if (options.Output.Layout != PixelLayout.Nchw || options.Output.Type == PixelType.UInt8)
            throw new ArgumentException($"the trainer takes NCHW float32, float16 or bfloat16 batches from the GPU loader, not {options.Output.Layout} {options.Output.Type}.");
        _deviceOrdinal = Math.Max(0, (int)device.index);
        _options = options with { Device = LoaderDevice.Cuda(_deviceOrdinal) };
        _loader = DataLoader.Create(_options);
        _device = CudaDevice.Open(_deviceOrdinal);
        Tensor? images = null;
        try
        {
            images = empty([options.BatchSize, 3, options.Output.Height, options.Output.Width], ScalarTypeOf(options.Output.Type), device);
            _labels = zeros([options.BatchSize], ScalarType.Int64, device);
        }
        catch
        {
            images?.Dispose();
            _loader.Dispose();
            _device.Dispose();
            throw;
        }
        _images = images;
        _labelScratch = new long[options.BatchSize];
    }

    public int ClassCount => _loader.ClassCount;

    public long SamplesPerEpoch => _loader.SamplesPerEpoch;

    public int BatchesPerEpoch => _loader.BatchesPerEpoch;

    public LoaderMetrics Metrics => _loader.Metrics;

    /// <summary>The GPU loader's decode counts: nvJPEG hardware engine, hybrid, CPU fallback.</summary>
    public (long Hardware, long Hybrid, long CpuFallback) DecodeCounts => _loader.Metrics.GpuDecodes;

    /// <summary>
    /// Throws <see cref="NotSupportedException"/> carrying <see cref="GpuAvailability"/>'s message (what is missing:
    /// driver, device, NVRTC, nvJPEG) when the GPU path cannot run here.
    /// </summary>
    public static void EnsureAvailable()
    {
        GpuProbeResult probe = GpuAvailability.Probe();
        if (!probe.IsAvailable)
            throw new NotSupportedException("--loader gpu: " + probe.Summary, new GpuUnavailableException(probe.Summary));
    }

    /// <summary>
    /// The <c>--device</c> that <c>--loader gpu</c> trains on: <c>cuda</c> for <c>auto</c> or <c>cuda</c>; <c>cpu</c> is a
    /// contradiction. Checks the GPU path first, so a machine without one fails here with the probe's message.
    /// </summary>
    public static string RequireCudaDevice(string requestedDevice)
    {
        if (requestedDevice == "cpu")
            throw new ArgumentException("--loader gpu writes batches into GPU memory and needs --device cuda (or auto), not --device cpu.");
        EnsureAvailable();
        return "cuda";
    }

    /// <summary>The loader's output type for a precision: the step's input arrives already in the autocast type.</summary>
    public static PixelType PixelTypeFor(AmpMode amp) => amp switch
    {
        AmpMode.Fp16 => PixelType.Float16,
        AmpMode.Bf16 => PixelType.BFloat16,
        _ => PixelType.Float32,
    };

    /// <summary>The tensor element type holding <paramref name="type"/>'s bytes unchanged.</summary>
    public static ScalarType ScalarTypeOf(PixelType type) => type switch
    {
        PixelType.Float32 => ScalarType.Float32,
        PixelType.Float16 => ScalarType.Float16,
        PixelType.BFloat16 => ScalarType.BFloat16,
        PixelType.UInt8 => ScalarType.Byte,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown pixel type"),
    };

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
            foreach (DeviceBatch batch in _loader)
            {
                using (batch)
                {
                    CopyIn(batch);
                } // Dispose records the slot's consumer-done event on libtorch's stream, right after the copy.
                imagesView?.Dispose();
                labelsView?.Dispose();
                bool full = batch.Count == _options.BatchSize;
                imagesView = full ? null : _images.narrow(0, 0, batch.Count);
                labelsView = full ? null : _labels.narrow(0, 0, batch.Count);
                // At the end of an epoch the loader's state has already moved on to (epoch + 1, 0).
                long after = batch.StateAfter.Epoch == epoch ? batch.StateAfter.Position : batch.Position + batch.Count;
                yield return new TrainingBatch(imagesView ?? _images, labelsView ?? _labels, batch.Count, after);
            }
        }
        finally
        {
            imagesView?.Dispose();
            labelsView?.Dispose();
        }
    }

    // The loader has already made libtorch's stream wait for the batch (when it was taken); both copies are
    // queued on that stream. The labels come from pageable memory, which the driver stages before returning.
    private unsafe void CopyIn(DeviceBatch batch)
    {
        ReadOnlySpan<int> labels = batch.Labels;
        for (int i = 0; i < labels.Length; i++) _labelScratch[i] = labels[i];
        _device.CopyDeviceToDeviceAsync(TensorNative.THSTensor_data(_images.Handle), batch.DevicePointer, batch.ImageBytes, 0);
        fixed (long* source = _labelScratch)
            _device.CopyHostToDeviceAsync(TensorNative.THSTensor_data(_labels.Handle), (nint)source, labels.Length * sizeof(long), 0);
    }

    public void Dispose()
    {
        _loader.Dispose(); // waits for the loader's stream; each slot waits for its consumer-done event
        _images.Dispose();
        _labels.Dispose();
        _device.Dispose();
    }
}
