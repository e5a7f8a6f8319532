namespace Loader.Augment.Cuda;

/// <summary>
/// Device memory for one batch's decoded regions, laid out back to back at 256-byte aligned offsets. Grows (never
/// shrinks) to the largest batch seen; growing waits for the stream so memory the GPU still reads is never freed.
/// </summary>
internal sealed class StagingArena(CudaDevice device) : IDisposable
{
    public const int Alignment = 256;

    private DeviceBuffer? _buffer;

    public long Capacity => _buffer?.Length ?? 0;

    public nint Pointer => _buffer?.Pointer ?? 0;

    public static long Align(long bytes) => (bytes + Alignment - 1) / Alignment * Alignment;

    /// <summary>Row pitch for an interleaved RGB region: 3 bytes per pixel (the hardware decoder wants nothing more).</summary>
    public static int PitchFor(int width) => width * 3;

    public void EnsureCapacity(long bytes, CudaStream stream)
    {
        if (bytes <= Capacity)
        {
            return;
        }

        if (_buffer is not null)
        {
            stream.Synchronize();
            _buffer.Dispose();
        }

        // 25% head room so a slightly larger batch does not reallocate again.
        _buffer = device.Allocate(Align(bytes + (bytes >> 2)));
    }

    public void Dispose() => _buffer?.Dispose();
}
