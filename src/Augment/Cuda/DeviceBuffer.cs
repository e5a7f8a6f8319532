using Loader.Augment.Cuda.Interop;

namespace Loader.Augment.Cuda;

/// <summary>Device memory (<c>cuMemAlloc</c>), freed on dispose. Copies are stream-ordered.</summary>
public sealed class DeviceBuffer : IDisposable
{
    private readonly DeviceMemoryHandle _memory;

    internal DeviceBuffer(CudaDevice device, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        device.MakeCurrent();
        _memory = new DeviceMemoryHandle(device.Context);
        CudaDriver.Check(CudaDriver.cuMemAlloc(out var pointer, (nuint)bytes));
        _memory.Set(pointer);
        Length = bytes;
    }

    public nint Pointer => _memory.Pointer;

    public long Length { get; }

    /// <summary>Queues a copy of <paramref name="source"/> to offset <paramref name="offset"/>. Pageable host memory makes it synchronous; pinned memory keeps it asynchronous.</summary>
    public unsafe void CopyFromHost(ReadOnlySpan<byte> source, CudaStream stream, long offset = 0)
    {
        CheckRange(offset, source.Length);
        fixed (byte* pointer = source)
        {
            CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync(Pointer + (nint)offset, (nint)pointer, (nuint)source.Length, stream.Pointer));
        }
    }

    /// <summary>Copies to the host and waits for it (tests, checks, the preview tool: not a hot path).</summary>
    public unsafe void CopyToHost(Span<byte> destination, CudaStream stream, long offset = 0)
    {
        CheckRange(offset, destination.Length);
        fixed (byte* pointer = destination)
        {
            CudaDriver.Check(CudaDriver.cuMemcpyDtoHAsync((nint)pointer, Pointer + (nint)offset, (nuint)destination.Length, stream.Pointer));
            stream.Synchronize();
        }
    }

    /// <summary>Copies from any device address (e.g. inside a staging arena) and waits for it. Not a hot path.</summary>
    internal static unsafe void CopyToHost(nint source, Span<byte> destination, CudaStream stream)
    {
        fixed (byte* pointer = destination)
        {
            CudaDriver.Check(CudaDriver.cuMemcpyDtoHAsync((nint)pointer, source, (nuint)destination.Length, stream.Pointer));
            stream.Synchronize();
        }
    }

    private void CheckRange(long offset, int count)
    {
        if (offset < 0 || offset + count > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"bytes {offset}..{offset + count} outside a device buffer of {Length} bytes");
        }
    }

    public void Dispose() => _memory.Dispose();
}
