using Loader.Augment.Cuda.Interop;

namespace Loader.Augment.Cuda;

/// <summary>
/// What one batched decode on nvJPEG's hardware engine holds until the GPU has finished it: its own batched-decode
/// state, the decode parameters of its samples (the region of interest each), and page-locked copies of the JPEG
/// bytes the engine reads. nvJPEG may still use all three after <c>nvjpegDecodeBatchedEx</c> returns, so none of
/// them is touched again before <see cref="WaitUntilFree"/>: DALI's nvJPEG decoder waits on such an event before it
/// reuses its hardware state and stages the JPEGs in pinned memory the same way, and nvImageCodec's hardware decoder
/// waits too. The caller's bytes, and the splicer's sub-JPEGs, may then change as soon as the decode call returns.
/// <see cref="NvJpegBatchDecoder"/> has one, as DALI and nvImageCodec each keep a single hardware state and wait for
/// its last batch before the next <c>nvjpegDecodeBatchedInitialize</c>. The host still prepares batch n+1 (reads,
/// plans, splices, parses headers) while batch n decodes.
/// </summary>
internal sealed class HardwareDecodeLane : IDisposable
{
    private readonly CudaDevice _device;
    private readonly NvJpegLibraryHandle _library;
    private readonly NvJpegStateHandle _state = new();
    private readonly List<NvJpegDecodeParamsHandle> _params = [];
    private readonly CudaEvent _done;
    private PinnedMemoryHandle? _staging;
    private long _capacity;

    public HardwareDecodeLane(CudaDevice device, NvJpegLibraryHandle hardwareLibrary)
    {
        _device = device;
        _library = hardwareLibrary;
        NvJpeg.Check(NvJpeg.nvjpegJpegStateCreate(hardwareLibrary.Pointer, out var state));
        _state.Set(state);
        _done = device.CreateEvent();  // never recorded until the first decode: waiting on it returns at once
    }

    /// <summary>The <c>nvjpegJpegState_t</c> of this lane's batched decodes.</summary>
    public nint State => _state.Pointer;

    /// <summary>Blocks until this lane's last decode has finished on the GPU; then its state, parameters and staged
    /// bytes may be reused.</summary>
    public void WaitUntilFree() => _done.Synchronize();

    /// <summary>Marks this lane in use by the work queued on <paramref name="stream"/> so far (call right after the
    /// decode is queued, whether or not nvJPEG accepted it).</summary>
    public void MarkInUse(CudaStream stream) => _done.Record(stream);

    /// <summary>Makes <paramref name="stream"/> wait, on the GPU, for this lane's last decode (work that reuses what
    /// that decode may have written).</summary>
    public void OrderBefore(CudaStream stream) => stream.Wait(_done);

    /// <summary>The decode parameters of batch position <paramref name="position"/>, created on first use (output
    /// interleaved RGB).</summary>
    public nint Parameters(int position)
    {
        while (_params.Count <= position)
        {
            var handle = new NvJpegDecodeParamsHandle();
            NvJpeg.Check(NvJpeg.nvjpegDecodeParamsCreate(_library.Pointer, out var pointer));
            handle.Set(pointer);
            _params.Add(handle);  // freed by Dispose even if the next call fails
            NvJpeg.Check(NvJpeg.nvjpegDecodeParamsSetOutputFormat(pointer, NvJpeg.NVJPEG_OUTPUT_RGBI));
        }

        return _params[position].Pointer;
    }

    /// <summary>
    /// Room for <paramref name="bytes"/> bytes of staged JPEGs (after <see cref="WaitUntilFree"/>): the pinned
    /// buffer grows, never shrinks, by a quarter more than asked so that batches of slightly larger files do not
    /// reallocate it each time.
    /// </summary>
    public void Reserve(long bytes)
    {
        if (bytes <= _capacity)
        {
            return;
        }

        _staging?.Dispose();
        _staging = null;
        _capacity = 0;
        var capacity = bytes + (bytes >> 2);
        _device.MakeCurrent();
        var staging = new PinnedMemoryHandle(_device.Context);
        CudaDriver.Check(CudaDriver.cuMemAllocHost(out var pointer, (nuint)capacity));
        staging.Set(pointer);
        _staging = staging;
        _capacity = capacity;
    }

    /// <summary>Copies <paramref name="jpeg"/> into the staging buffer at <paramref name="offset"/> (within what
    /// <see cref="Reserve"/> made room for) and returns its page-locked address.</summary>
    public unsafe nint Stage(ReadOnlySpan<byte> jpeg, long offset)
    {
        if (_staging is null || offset < 0 || offset + jpeg.Length > _capacity)
        {
            throw new InvalidOperationException($"Staging {jpeg.Length} bytes at {offset} overruns the {_capacity} reserved.");
        }

        var destination = _staging.Pointer + (nint)offset;
        jpeg.CopyTo(new Span<byte>((void*)destination, jpeg.Length));
        return destination;
    }

    public void Dispose()
    {
        // The engine may still read this lane's state and bytes: free them only once its last decode has finished.
        _device.WaitBeforeFreeing(WaitUntilFree);

        foreach (var handle in _params)
        {
            handle.Dispose();
        }

        _state.Dispose();
        _staging?.Dispose();
        _done.Dispose();
    }
}
