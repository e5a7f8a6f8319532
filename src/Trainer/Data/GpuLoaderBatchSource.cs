using Loader.Augment;
using Loader.Augment.Cuda;
using Loader.Pipeline;
using Loader.Pipeline.Gpu;
using Loader.Trainer.Interop;
using Loader.Trainer.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace Loader.Trainer.Data;

/// <summary>
/// Batches from the GPU loader (<see cref="GpuDataLoader"/>: nvJPEG decode and one CUDA augment launch per batch),
/// never leaving the GPU. The images arrive already in the step's precision (fp16/bf16 under AMP, else fp32).
/// </summary>
/// <remarks>
/// <para>Per batch, all on libtorch's stream (the legacy default stream): wait for the batch's ready event
/// (<see cref="GpuDataLoader.WaitOnDefaultStream"/>, the host does not block), copy the loader's device slot into
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
    private GpuDataLoader _loader;

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
        _options = options;
        _deviceOrdinal = Math.Max(0, (int)device.index);
        _loader = GpuDataLoader.Create(options, deviceOrdinal: _deviceOrdinal);
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
    public (long Hardware, long Hybrid, long CpuFallback) DecodeCounts => _loader.DecodeCounts;

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
            _loader = GpuDataLoader.Create(_options, wanted, deviceOrdinal: _deviceOrdinal);
        }
        Tensor? imagesView = null, labelsView = null;
        try
        {
            foreach (Batch batch in _loader)
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

    private void CopyIn(Batch batch)
    {
        ReadOnlySpan<int> labels = batch.Labels;
        for (int i = 0; i < labels.Length; i++) _labelScratch[i] = labels[i];
        _loader.WaitOnDefaultStream(batch);
        _loader.Device.MakeCurrent();
        CudaCopyNative.DeviceToDevice(TensorNative.THSTensor_data(_images.Handle), batch.DevicePointer,
                                      (long)batch.Count * batch.Output.BytesPerSample);
        CudaCopyNative.HostToDevice(TensorNative.THSTensor_data(_labels.Handle), _labelScratch.AsSpan(0, labels.Length));
    }

    public void Dispose()
    {
        _loader.Dispose(); // waits for the loader's stream; each slot waits for its consumer-done event
        _images.Dispose();
        _labels.Dispose();
    }
}
