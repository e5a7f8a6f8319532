using System.Buffers;
using Loader.Augment.Cuda.Interop;
using Loader.Augment.Jpeg;

namespace Loader.Augment.Cuda;

/// <summary>
/// Decodes a batch of JPEGs on the GPU into a staging arena, interleaved RGB, each sample only its region (the
/// crop window for training plans). A region of a JPEG with usable restart intervals is decoded out of the sub-JPEG
/// of the intervals that cover it (<see cref="SplicedFeed"/>). Images the hardware engine supports
/// (<c>nvjpegDecodeBatchedSupportedEx</c>) go to it in one batched call; the rest go to the hybrid decoder on worker
/// threads; images nvJPEG rejects are marked <see cref="DecodeRoute.CpuFallback"/> for the caller. The hardware
/// engine's batch state, parameters and page-locked input copies (<see cref="HardwareDecodeLane"/>) are reused only
/// once its previous batch has finished on the GPU.
/// </summary>
internal sealed class NvJpegBatchDecoder : IDisposable
{
    private readonly CudaDevice _device;
    private readonly GpuDecodeOptions _options;
    private readonly NvJpegLibraryHandle _library = new();
    private readonly NvJpegLibraryHandle _hardwareLibrary = new();
    private readonly NvJpegDecoderHandle _hybridDecoder = new();
    private readonly HybridDecodeWorker[] _workers;
    private readonly HardwareDecodeLane? _hardwareLane;
    private readonly List<NvJpegStreamHandle> _hardwareStreams = [];
    private readonly List<int>[] _workerShares;
    private readonly List<int> _hardwareSamples = [];
    private readonly SplicedFeed _feed;
    private NvJpegInput[] _inputs = [];
    private DecodedRegion[] _shared = [];

    public unsafe NvJpegBatchDecoder(CudaDevice device, GpuDecodeOptions options)
    {
        _device = device;
        _options = options;
        _feed = new SplicedFeed(options.SpliceRestartIntervals);
        device.MakeCurrent();

        // Two library handles, as DALI keeps them: the hardware backend's for batched decode on the JPEG engines,
        // the default backend's for the decoupled hybrid decoders and header parsing.
        NvJpeg.Check(NvJpeg.nvjpegCreateEx(NvJpeg.NVJPEG_BACKEND_DEFAULT, null, null, NvJpeg.NVJPEG_FLAGS_DEFAULT, out var library));
        _library.Set(library);
        if (options.UseHardwareDecoder)
        {
            var status = NvJpeg.nvjpegCreateEx(NvJpeg.NVJPEG_BACKEND_HARDWARE, null, null, NvJpeg.NVJPEG_FLAGS_DEFAULT, out var hardware);
            if (status == 0)
            {
                _hardwareLibrary.Set(hardware);
                _hardwareLane = new HardwareDecodeLane(device, _hardwareLibrary);
                HasHardwareDecoder = true;
            }
            else
            {
                // NVJPEG_STATUS_ARCH_MISMATCH / IMPLEMENTATION_NOT_SUPPORTED: no hardware engine on this GPU.
                HardwareUnavailableReason = NvJpeg.Describe(status);
            }
        }
        else
        {
            HardwareUnavailableReason = "disabled by options";
        }

        NvJpeg.Check(NvJpeg.nvjpegDecoderCreate(library, NvJpeg.NVJPEG_BACKEND_HYBRID, out var decoder));
        _hybridDecoder.Set(decoder);
        _workers = new HybridDecodeWorker[options.ResolvedHybridThreads];
        _workerShares = new List<int>[_workers.Length];
        for (var w = 0; w < _workers.Length; w++)
        {
            _workers[w] = new HybridDecodeWorker(device, _library, _hybridDecoder);
            _workerShares[w] = [];
        }
    }

    public bool HasHardwareDecoder { get; }

    /// <summary>Why the hardware engine is not used (null when it is).</summary>
    public string? HardwareUnavailableReason { get; }

    /// <summary>Samples given to nvJPEG and how many of them spliced, since the last call.</summary>
    public SpliceStatistics TakeSpliceStatistics() => _feed.TakeStatistics();

    /// <summary>
    /// Queues the decode of every sample on <paramref name="stream"/> (work on the workers' streams is joined into it)
    /// and fills <paramref name="results"/>. The JPEG bytes may change once this returns: the hybrid decoder has read
    /// them by then, and the hardware engine reads page-locked copies of them (<see cref="HardwareDecodeLane"/>).
    /// </summary>
    public unsafe void Decode(IReadOnlyList<ReadOnlyMemory<byte>> jpegs, ReadOnlySpan<SamplePlan> plans, Span<DecodedRegion> results,
        StagingArena arena, CudaStream stream)
    {
        _device.MakeCurrent();
        var count = jpegs.Count;
        var offsets = ArrayPool<long>.Shared.Rent(count);
        if (_inputs.Length < count)
        {
            _inputs = new NvJpegInput[count];
        }

        var inputs = _inputs;
        try
        {
            // 1. Headers, regions, what nvJPEG is given (spliced where it can be) and arena layout.
            long total = 0;
            for (var i = 0; i < count; i++)
            {
                results[i] = PlanRegion(jpegs[i].Span, plans[i]);
                if (results[i].Route == DecodeRoute.CpuFallback || !TryPrepareInput(i, jpegs[i], ref results[i]))
                {
                    continue;
                }

                offsets[i] = total;
                total += StagingArena.Align((long)results[i].Pitch * results[i].Region.Height);
            }

            arena.EnsureCapacity(Math.Max(total, StagingArena.Alignment), stream);
            for (var i = 0; i < count; i++)
            {
                if (results[i].Route != DecodeRoute.CpuFallback)
                {
                    results[i].Pixels = arena.Pointer + (nint)offsets[i];
                }
            }

            // 2. The hardware engine, batched, for what it supports.
            _hardwareSamples.Clear();
            if (_hardwareLane is { } lane)
            {
                lane.WaitUntilFree();  // the previous batch may still be reading its parameters and bytes
                SelectHardware(count, results, lane);
                if (_hardwareSamples.Count > 0 && !DecodeOnHardware(results, lane, stream))
                {
                    // The batch call failed as a whole: everything goes hybrid, into regions the engine may have
                    // begun to write, so the workers' streams wait for whatever it queued.
                    _hardwareSamples.Clear();
                    foreach (var worker in _workers)
                    {
                        lane.OrderBefore(worker.Stream);
                    }
                }
            }

            foreach (var i in _hardwareSamples)
            {
                results[i].Route = DecodeRoute.Hardware;
            }

            // 3. The hybrid decoder for the rest, spread over the worker threads.
            foreach (var share in _workerShares)
            {
                share.Clear();
            }

            var next = 0;
            for (var i = 0; i < count; i++)
            {
                if (results[i].Route == DecodeRoute.None)
                {
                    _workerShares[next].Add(i);
                    next = (next + 1) % _workers.Length;
                }
            }

            // The lambda below cannot capture a span: the workers write into a reused array instead.
            if (_shared.Length < count)
            {
                _shared = new DecodedRegion[count];
            }

            var shared = _shared;
            results.CopyTo(shared);
            Parallel.For(0, _workers.Length, w =>
            {
                _device.MakeCurrent();  // a pool thread has no current context
                var worker = _workers[w];
                foreach (var i in _workerShares[w])
                {
                    var r = shared[i];
                    var input = inputs[i];
                    shared[i].Route = worker.TryDecode(input.Jpeg.Span, input.Window, input.Whole, r.Pixels, r.Pitch) ? DecodeRoute.Hybrid : DecodeRoute.CpuFallback;
                }

                worker.Done.Record(worker.Stream);
            });
            shared.AsSpan(0, count).CopyTo(results);
            foreach (var worker in _workers)
            {
                stream.Wait(worker.Done);
            }
        }
        finally
        {
            ArrayPool<long>.Shared.Return(offsets);
        }
    }

    private unsafe DecodedRegion PlanRegion(ReadOnlySpan<byte> jpeg, in SamplePlan plan)
    {
        var widths = stackalloc int[NvJpeg.MaxComponents];
        var heights = stackalloc int[NvJpeg.MaxComponents];
        int status, components = 0;
        fixed (byte* data = jpeg)
        {
            status = jpeg.IsEmpty ? 3 : NvJpeg.nvjpegGetImageInfo(_library.Pointer, data, (nuint)jpeg.Length, out components, out _, widths, heights);
        }

        // CMYK / YCCK (4 components): the CPU path converts them the way PIL does; nvJPEG's RGB output would not match.
        // A progressive file libjpeg decodes with block smoothing (its first ACs not all sent): the CPU path smooths as
        // libjpeg does, which nvJPEG is not known to do.
        if (status != 0 || components is not (1 or 3) || BlockSmoothing.AppliesTo(jpeg))
        {
            return new DecodedRegion(DecodeRoute.CpuFallback, 0, 0, default, 0, 0);
        }

        var (width, height) = (widths[0], heights[0]);
        var crop = plan.Crop;
        if (crop.Width <= 0 || crop.Height <= 0 || crop.X < 0 || crop.Y < 0 || crop.Right > width || crop.Bottom > height)
        {
            throw new ArgumentException($"The crop window {crop} does not fit the {width}x{height} image.", nameof(plan));
        }

        // Training plans read only their crop; evaluation plans may read around their box: decode the whole image.
        var region = _options.UseRegionOfInterest && plan.EvalBox is null ? crop : new CropWindow(0, 0, width, height);
        return new DecodedRegion(DecodeRoute.None, 0, StagingArena.PitchFor(region.Width), region, width, height);
    }

    /// <summary>
    /// Sets <c>_inputs[sample]</c>: the sample's region out of the sub-JPEG of its restart intervals where the JPEG has
    /// them (and the options allow), else the JPEG as it is. False, with the sample marked for the CPU path, when the
    /// restart markers the region needs are broken: the CPU path decodes the sample itself (splicing again for its own
    /// region and scale), and reports it where it too reads the broken interval.
    /// </summary>
    private bool TryPrepareInput(int sample, ReadOnlyMemory<byte> jpeg, ref DecodedRegion result)
    {
        try
        {
            _inputs[sample] = _feed.Prepare(sample, jpeg, result.Region, result.ImageWidth, result.ImageHeight);
            return true;
        }
        catch (ImageDecodeException)
        {
            _inputs[sample] = default;  // nothing of an earlier batch kept alive through this entry
            result = result with { Route = DecodeRoute.CpuFallback };
            return false;
        }
    }

    private unsafe void SelectHardware(int count, Span<DecodedRegion> results, HardwareDecodeLane lane)
    {
        for (var i = 0; i < count; i++)
        {
            if (results[i].Route != DecodeRoute.None)
            {
                continue;
            }

            var slot = _hardwareSamples.Count;
            while (_hardwareStreams.Count <= slot)
            {
                var jpegStream = new NvJpegStreamHandle();
                NvJpeg.Check(NvJpeg.nvjpegJpegStreamCreate(_hardwareLibrary.Pointer, out var streamPointer));
                jpegStream.Set(streamPointer);
                _hardwareStreams.Add(jpegStream);
            }

            var input = _inputs[i];
            var span = input.Jpeg.Span;
            var window = input.Window;
            var p = lane.Parameters(slot);
            NvJpeg.Check(input.Whole ? NvJpeg.nvjpegDecodeParamsSetROI(p, 0, 0, -1, -1) : NvJpeg.nvjpegDecodeParamsSetROI(p, window.X, window.Y, window.Width, window.Height));
            int parsed, supported = -1, unsupported = -1;

            // The parsed header may point into the bytes: both calls that read it run while they are pinned.
            fixed (byte* data = span)
            {
                parsed = NvJpeg.nvjpegJpegStreamParseHeader(_hardwareLibrary.Pointer, data, (nuint)span.Length, _hardwareStreams[slot].Pointer);
                if (parsed == 0)
                {
                    supported = NvJpeg.nvjpegDecodeBatchedSupportedEx(_hardwareLibrary.Pointer, _hardwareStreams[slot].Pointer, p, out unsupported);
                }
            }

            // A header the engine cannot parse goes to the hybrid decoder (or the CPU), which says what is wrong.
            if (parsed == 0 && supported == 0 && unsupported == 0)
            {
                _hardwareSamples.Add(i);  // 0 means supported
            }
        }
    }

    private unsafe bool DecodeOnHardware(Span<DecodedRegion> results, HardwareDecodeLane lane, CudaStream stream)
    {
        var n = _hardwareSamples.Count;
        var data = ArrayPool<nint>.Shared.Rent(n);
        var lengths = ArrayPool<nuint>.Shared.Rent(n);
        var images = ArrayPool<NvJpegImage>.Shared.Rent(n);
        var decodeParams = ArrayPool<nint>.Shared.Rent(n);
        try
        {
            long staged = 0;
            foreach (var i in _hardwareSamples)
            {
                staged += StagingArena.Align(_inputs[i].Jpeg.Length);
            }

            lane.Reserve(staged);
            long offset = 0;
            for (var k = 0; k < n; k++)
            {
                var i = _hardwareSamples[k];
                var jpeg = _inputs[i].Jpeg.Span;
                data[k] = lane.Stage(jpeg, offset);
                offset += StagingArena.Align(jpeg.Length);
                lengths[k] = (nuint)jpeg.Length;
                images[k] = NvJpegImage.Interleaved(results[i].Pixels, results[i].Pitch);
                decodeParams[k] = lane.Parameters(k);  // position k was set for sample _hardwareSamples[k]
            }

            NvJpeg.Check(NvJpeg.nvjpegDecodeBatchedInitialize(_hardwareLibrary.Pointer, lane.State, n, 1, NvJpeg.NVJPEG_OUTPUT_RGBI));
            int status;
            fixed (nint* dataPointer = data)
            fixed (nuint* lengthPointer = lengths)
            fixed (NvJpegImage* imagePointer = images)
            fixed (nint* paramsPointer = decodeParams)
            {
                status = NvJpeg.nvjpegDecodeBatchedEx(_hardwareLibrary.Pointer, lane.State, (byte**)dataPointer, lengthPointer,
                    imagePointer, paramsPointer, stream.Pointer);
            }

            lane.MarkInUse(stream);
            if (status is 3 or 4 or 9 or 10)
            {
                return false;
            }

            NvJpeg.Check(status, "nvjpegDecodeBatchedEx");
            return true;
        }
        finally
        {
            ArrayPool<nint>.Shared.Return(data);
            ArrayPool<nuint>.Shared.Return(lengths);
            ArrayPool<NvJpegImage>.Shared.Return(images);
            ArrayPool<nint>.Shared.Return(decodeParams);
        }
    }

    public void Dispose()
    {
        foreach (var worker in _workers)
        {
            worker.Dispose();
        }

        foreach (var handle in _hardwareStreams)
        {
            handle.Dispose();
        }

        _hardwareLane?.Dispose();
        _hybridDecoder.Dispose();
        _hardwareLibrary.Dispose();
        _library.Dispose();
    }
}
