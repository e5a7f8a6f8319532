using System.Runtime.InteropServices;
using Loader.Augment.Cuda.Interop;

namespace Loader.Augment.Cuda;

/// <summary>Per-batch counts of which decoder handled the samples, and of the samples given to nvJPEG, how many as a
/// sub-JPEG of the restart intervals their crop needs (<see cref="GpuDecodeOptions.SpliceRestartIntervals"/>).</summary>
public readonly record struct GpuBatchStats(int Hardware, int Hybrid, int CpuFallback, SpliceStatistics Splicing = default);

/// <summary>
/// The GPU half of the augment operator: JPEGs and their sample plans (the same <see cref="SamplePlan"/>s the CPU
/// path consumes) in, finished samples out, written straight into a caller-provided device pointer (a TorchSharp
/// CUDA tensor's data in the trainer). Per batch: nvJPEG decodes each crop into a staging arena, then one kernel
/// launch resizes, flips, normalizes and converts every sample. Everything is queued on <see cref="Stream"/>; the
/// returned event marks the batch complete: the consumer's stream waits on it before reading.
/// <para>
/// Two lanes of staging memory alternate, so the host can prepare batch n+1 while the GPU still works on batch n; a
/// lane is reused only after its previous batch's event has fired. The caller owns the output slots: pass the event
/// the consumer recorded after its last read of <c>destination</c> and the batch waits for it (on the GPU) before
/// writing.
/// </para>
/// </summary>
public sealed class GpuBatchProcessor : IDisposable
{
    private const int LaneCount = 2;

    private readonly CudaDevice _device;
    private readonly OutputSpec _output;
    private readonly int _maxBatchSize;
    private readonly AugmentKernel _kernel;
    private readonly NvJpegBatchDecoder _decoder;
    private readonly Lane[] _lanes;
    private readonly DecodedRegion[] _regions;
    private readonly CpuSampleDecoder _cpuDecoder = new();
    private int _nextLane;

    public GpuBatchProcessor(CudaDevice device, OutputSpec output, int maxBatchSize, GpuDecodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchSize);
        _device = device;
        _output = output;
        _maxBatchSize = maxBatchSize;
        device.MakeCurrent();
        Stream = device.CreateStream();
        _kernel = new AugmentKernel(device);
        _decoder = new NvJpegBatchDecoder(device, options ?? new GpuDecodeOptions());
        _lanes = new Lane[LaneCount];
        for (var i = 0; i < LaneCount; i++)
        {
            _lanes[i] = new Lane(device, maxBatchSize, output.BytesPerSample);
        }

        _regions = new DecodedRegion[maxBatchSize];
    }

    /// <summary>The stream every batch is written on.</summary>
    public CudaStream Stream { get; }

    public OutputSpec Output => _output;

    public bool UsesHardwareDecoder => _decoder.HasHardwareDecoder;

    public string? HardwareUnavailableReason => _decoder.HardwareUnavailableReason;

    public GpuBatchStats LastBatch { get; private set; }

    /// <summary>
    /// Queues the decode and augmentation of <paramref name="jpegs"/> with <paramref name="plans"/> into
    /// <paramref name="destination"/> (device memory of <c>count * Output.BytesPerSample</c> bytes) and returns the
    /// event that fires when the batch is written (valid until this lane comes round again, two batches later).
    /// <paramref name="consumerDone"/>: a <c>CUevent</c> the consumer recorded after its last read of
    /// <paramref name="destination"/> (0 when there is none). The JPEG bytes may be reused once this returns.
    /// <paramref name="replaceUndecodable"/>: asked for a replacement (JPEG and plan) when nvJPEG and the CPU
    /// fallback both reject sample i, as often as replacements fail too; without it such a sample fails the batch.
    /// </summary>
    public CudaEvent ProcessBatch(IReadOnlyList<ReadOnlyMemory<byte>> jpegs, ReadOnlySpan<SamplePlan> plans, nint destination, nint consumerDone = 0,
                                  Func<int, ImageDecodeException, (ReadOnlyMemory<byte> Jpeg, SamplePlan Plan)>? replaceUndecodable = null)
    {
        ArgumentNullException.ThrowIfNull(jpegs);
        var count = jpegs.Count;
        if (count != plans.Length || count > _maxBatchSize)
        {
            throw new ArgumentException($"{count} images and {plans.Length} plans for a processor of at most {_maxBatchSize} samples per batch.", nameof(plans));
        }

        for (var i = 0; i < count; i++)
        {
            if (plans[i].OutputWidth != _output.Width || plans[i].OutputHeight != _output.Height)
            {
                throw new ArgumentException($"Plan {i} makes {plans[i].OutputWidth}x{plans[i].OutputHeight}; the output is {_output.Width}x{_output.Height}.", nameof(plans));
            }
        }

        _device.MakeCurrent();
        var lane = _lanes[_nextLane];
        _nextLane = (_nextLane + 1) % LaneCount;
        lane.Done.Synchronize();  // the batch that used this lane two calls ago has finished with its staging memory
        var regions = _regions.AsSpan(0, count);
        _decoder.Decode(jpegs, plans, regions, lane.Arena, Stream);

        // The decode writes only this lane's arena; the first writes of destination (fallback copies, the kernel)
        // come after this wait. Waiting before the decode would queue it behind the consumer, and the decoder's next
        // batch, which waits for this decode on the host, behind the consumer too.
        if (consumerDone != 0)
        {
            Stream.Wait(consumerDone);
        }

        int hardware = 0, hybrid = 0, fallback = 0;
        var parameters = lane.HostParameters;
        for (var i = 0; i < count; i++)
        {
            var region = regions[i];
            switch (region.Route)
            {
                case DecodeRoute.Hardware:
                case DecodeRoute.Hybrid:
                    parameters[i] = PlanPacker.Pack(plans[i], region.Region, region.Pixels, region.Pitch);
                    _ = region.Route == DecodeRoute.Hardware ? hardware++ : hybrid++;
                    break;
                default:
                    // nvJPEG could not decode it: the CPU path makes the finished sample, we copy it into the slot.
                    var slot = lane.HostFallback(i);
                    DecodeOnCpu(i, jpegs[i], plans[i], slot, replaceUndecodable);
                    lane.CopyFallback(i, destination + (nint)((long)i * _output.BytesPerSample), Stream);
                    parameters[i] = PlanPacker.Skipped();
                    fallback++;
                    break;
            }
        }

        lane.UploadParameters(count, Stream);
        _kernel.Launch(PlanPacker.PackBatch(_output, count, lane.DeviceParameters, destination), Stream);
        lane.Done.Record(Stream);
        LastBatch = new GpuBatchStats(hardware, hybrid, fallback, _decoder.TakeSpliceStatistics());
        return lane.Done;
    }

    // The CPU fallback for one sample; a sample it cannot decode either is replaced through the caller (the
    // replacement is decoded here too: its bytes are already on the host).
    private void DecodeOnCpu(int index, ReadOnlyMemory<byte> jpeg, SamplePlan plan, Span<byte> slot,
                             Func<int, ImageDecodeException, (ReadOnlyMemory<byte> Jpeg, SamplePlan Plan)>? replaceUndecodable)
    {
        while (true)
        {
            try
            {
                _cpuDecoder.Process(jpeg.Span, plan, _output, slot);
                return;
            }
            catch (ImageDecodeException e) when (replaceUndecodable is not null)
            {
                (jpeg, plan) = replaceUndecodable(index, e);
            }
        }
    }

    public void Dispose()
    {
        // Queued decodes and kernels may still use the lanes' memory: free it only once the stream has drained, and
        // after the decoder, whose workers drain their own streams first.
        _device.WaitBeforeFreeing(Stream.Synchronize);

        _decoder.Dispose();
        foreach (var lane in _lanes)
        {
            lane.Dispose();
        }

        _kernel.Dispose();
        _cpuDecoder.Dispose();
        Stream.Dispose();
    }

    /// <summary>One set of per-batch staging memory: decoded regions, kernel parameters (pinned host + device), CPU fallback samples.</summary>
    private sealed class Lane : IDisposable
    {
        private readonly PinnedMemoryHandle _pinned;
        private readonly DeviceBuffer _deviceParameters;
        private readonly int _maxBatchSize;
        private readonly int _bytesPerSample;
        private readonly long _fallbackOffset;

        public unsafe Lane(CudaDevice device, int maxBatchSize, int bytesPerSample)
        {
            _maxBatchSize = maxBatchSize;
            _bytesPerSample = bytesPerSample;
            Arena = new StagingArena(device);
            Done = device.CreateEvent();
            var parameterBytes = (long)maxBatchSize * Marshal.SizeOf<GpuSampleParams>();
            _deviceParameters = device.Allocate(parameterBytes);
            _fallbackOffset = StagingArena.Align(parameterBytes);
            _pinned = new PinnedMemoryHandle(device.Context);
            CudaDriver.Check(CudaDriver.cuMemAllocHost(out var pinned, (nuint)(_fallbackOffset + ((long)maxBatchSize * bytesPerSample))));
            _pinned.Set(pinned);
            ParameterBytes = parameterBytes;
        }

        public StagingArena Arena { get; }

        public CudaEvent Done { get; }

        public nint DeviceParameters => _deviceParameters.Pointer;

        private long ParameterBytes { get; }

        public unsafe Span<GpuSampleParams> HostParameters => new((void*)_pinned.Pointer, _maxBatchSize);

        public unsafe Span<byte> HostFallback(int sample) => new((void*)(_pinned.Pointer + (nint)(_fallbackOffset + ((long)sample * _bytesPerSample))), _bytesPerSample);

        public void CopyFallback(int sample, nint destination, CudaStream stream) =>
            CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync(destination, _pinned.Pointer + (nint)(_fallbackOffset + ((long)sample * _bytesPerSample)), (nuint)_bytesPerSample, stream.Pointer));

        public void UploadParameters(int count, CudaStream stream) =>
            CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync(DeviceParameters, _pinned.Pointer, (nuint)Math.Min(ParameterBytes, (long)count * Marshal.SizeOf<GpuSampleParams>()), stream.Pointer));

        public void Dispose()
        {
            Arena.Dispose();
            _deviceParameters.Dispose();
            _pinned.Dispose();
            Done.Dispose();
        }
    }
}
