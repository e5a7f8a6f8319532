using Loader.Augment.Cuda.Interop;

namespace Loader.Augment.Cuda;

/// <summary>
/// One CPU thread's share of nvJPEG's decoupled hybrid decode: its own decoder state, two JPEG streams and two
/// pinned buffers used alternately (the Huffman stage of image n+1 fills one while the transfer of image n still
/// reads the other), a device buffer, and its own CUDA stream. Used by one thread at a time.
/// <para>
/// The state and the device buffer are shared by consecutive images, and the transfer stage may resize the device
/// buffer, so image n+1 is transferred only once image n's device decode has finished (DALI waits on such an event
/// per thread; NVIDIA's multiple-instances sample synchronizes the stream at the same point). The Huffman stage, the
/// CPU's part, still overlaps the GPU's work on the image before.
/// </para>
/// </summary>
internal sealed class HybridDecodeWorker : IDisposable
{
    private readonly CudaDevice _device;
    private readonly NvJpegLibraryHandle _library;
    private readonly NvJpegDecoderHandle _decoder;
    private readonly NvJpegStateHandle _state = new();
    private readonly NvJpegDeviceBufferHandle _deviceBuffer = new();
    private readonly NvJpegPinnedBufferHandle[] _pinned = [new(), new()];
    private readonly NvJpegStreamHandle[] _jpegStreams = [new(), new()];
    private readonly CudaEvent[] _pinnedFree;
    private readonly CudaEvent _decoded;
    private readonly NvJpegDecodeParamsHandle _params = new();
    private int _next;

    public unsafe HybridDecodeWorker(CudaDevice device, NvJpegLibraryHandle library, NvJpegDecoderHandle decoder)
    {
        _device = device;
        _library = library;
        _decoder = decoder;
        device.MakeCurrent();
        Stream = device.CreateStream();
        Done = device.CreateEvent();
        _pinnedFree = [device.CreateEvent(), device.CreateEvent()];
        _decoded = device.CreateEvent();  // not recorded until the first decode: waiting on it returns at once

        NvJpeg.Check(NvJpeg.nvjpegDecoderStateCreate(library.Pointer, decoder.Pointer, out var state));
        _state.Set(state);
        NvJpeg.Check(NvJpeg.nvjpegBufferDeviceCreate(library.Pointer, null, out var deviceBuffer));
        _deviceBuffer.Set(deviceBuffer);
        NvJpeg.Check(NvJpeg.nvjpegStateAttachDeviceBuffer(_state.Pointer, _deviceBuffer.Pointer));
        for (var k = 0; k < 2; k++)
        {
            NvJpeg.Check(NvJpeg.nvjpegBufferPinnedCreate(library.Pointer, null, out var pinned));
            _pinned[k].Set(pinned);
            NvJpeg.Check(NvJpeg.nvjpegJpegStreamCreate(library.Pointer, out var jpegStream));
            _jpegStreams[k].Set(jpegStream);
            _pinnedFree[k].Record(Stream);
        }

        NvJpeg.Check(NvJpeg.nvjpegDecodeParamsCreate(library.Pointer, out var decodeParams));
        _params.Set(decodeParams);
        NvJpeg.Check(NvJpeg.nvjpegDecodeParamsSetOutputFormat(_params.Pointer, NvJpeg.NVJPEG_OUTPUT_RGBI));
    }

    public CudaStream Stream { get; }

    /// <summary>Recorded on <see cref="Stream"/> after this worker's last queued decode.</summary>
    public CudaEvent Done { get; }

    /// <summary>
    /// Decodes <paramref name="jpeg"/>'s <paramref name="region"/> (the whole image when it is the whole image) as
    /// interleaved RGB into <paramref name="destination"/>. Returns false when nvJPEG cannot decode this image (the
    /// caller then uses the CPU path); throws on CUDA failures.
    /// </summary>
    public unsafe bool TryDecode(ReadOnlySpan<byte> jpeg, CropWindow region, bool wholeImage, nint destination, int pitch)
    {
        _device.MakeCurrent();
        var k = _next;
        _next ^= 1;
        var jpegStream = _jpegStreams[k].Pointer;

        // The image two before this one used pinned buffer k and JPEG stream k: its transfer must be done before
        // either is refilled.
        _pinnedFree[k].Synchronize();

        // save_stream = 1: the JPEG stream keeps its own copy of the bytes, so no later stage reads the caller's
        // (which may move or change once this returns; the transfer below still reads the stream).
        fixed (byte* data = jpeg)
        {
            if (NvJpeg.nvjpegJpegStreamParse(_library.Pointer, data, (nuint)jpeg.Length, 0, 1, jpegStream) != 0)
            {
                return false;
            }
        }

        NvJpeg.Check(wholeImage
            ? NvJpeg.nvjpegDecodeParamsSetROI(_params.Pointer, 0, 0, -1, -1)
            : NvJpeg.nvjpegDecodeParamsSetROI(_params.Pointer, region.X, region.Y, region.Width, region.Height));
        NvJpeg.Check(NvJpeg.nvjpegDecoderJpegSupported(_decoder.Pointer, jpegStream, _params.Pointer, out var unsupported));
        if (unsupported != 0)
        {
            return false;
        }

        NvJpeg.Check(NvJpeg.nvjpegStateAttachPinnedBuffer(_state.Pointer, _pinned[k].Pointer));
        var host = NvJpeg.nvjpegDecodeJpegHost(_library.Pointer, _decoder.Pointer, _state.Pointer, _params.Pointer, jpegStream);
        if (host is 3 or 4 or 10)
        {
            return false;  // bad, unsupported or truncated stream: the CPU decoder reports it properly
        }

        NvJpeg.Check(host, "nvjpegDecodeJpegHost");

        // The previous image's device decode still uses the state and the device buffer the transfer refills.
        _decoded.Synchronize();
        NvJpeg.Check(NvJpeg.nvjpegDecodeJpegTransferToDevice(_library.Pointer, _decoder.Pointer, _state.Pointer, jpegStream, Stream.Pointer));
        _pinnedFree[k].Record(Stream);
        var image = NvJpegImage.Interleaved(destination, pitch);
        NvJpeg.Check(NvJpeg.nvjpegDecodeJpegDevice(_library.Pointer, _decoder.Pointer, _state.Pointer, &image, Stream.Pointer));
        _decoded.Record(Stream);
        return true;
    }

    public void Dispose()
    {
        // Queued work may still use the state and buffers (a batch that failed part-way is not joined into the batch
        // stream): free them only once this worker's stream has drained.
        _device.WaitBeforeFreeing(Stream.Synchronize);

        _params.Dispose();
        _state.Dispose();
        _deviceBuffer.Dispose();
        foreach (var handle in _pinned)
        {
            handle.Dispose();
        }

        foreach (var handle in _jpegStreams)
        {
            handle.Dispose();
        }

        foreach (var cudaEvent in _pinnedFree)
        {
            cudaEvent.Dispose();
        }

        _decoded.Dispose();

        Done.Dispose();
        Stream.Dispose();
    }
}
