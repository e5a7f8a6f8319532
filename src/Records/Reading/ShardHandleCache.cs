using Microsoft.Win32.SafeHandles;

namespace Loader.Records.Reading;

/// <summary>
/// The shards' file handles, opened on first use and capped at <see cref="MaxOpen"/> at once, so that any shard
/// count works under any <c>ulimit -n</c> (TensorFlow's ImageNet layout has 1024 training shards; a default limit is
/// 1024 descriptors for everything). The hot path is lock-free: a volatile read of the shard's handle and a plain
/// write of its last-use tick. Opening, and closing the least recently used handle when the cap is reached, happen
/// under a lock on the slow path.
/// </summary>
/// <remarks>
/// A handle may be closed while another thread is about to read with it: positioned reads take a reference on the
/// handle, so a read already running completes and the descriptor is closed after it; a read that starts after the
/// close gets <see cref="ObjectDisposedException"/>, and <see cref="Read"/> then reopens the handle and retries.
/// </remarks>
internal sealed class ShardHandleCache : IDisposable
{
    private readonly string[] _paths;
    private readonly SafeFileHandle?[] _handles;
    private readonly long[] _lastUse;
    private readonly Lock _lock = new();
    private long _clock;
    private int _open;
    private bool _disposed;

    public ShardHandleCache(string[] paths, int maxOpen)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxOpen);
        _paths = paths;
        _handles = new SafeFileHandle?[paths.Length];
        _lastUse = new long[paths.Length];
        MaxOpen = maxOpen;
    }

    public int MaxOpen { get; }

    /// <summary>Handles open right now.</summary>
    public int OpenCount => Volatile.Read(ref _open);

    /// <summary>A positioned read of shard <paramref name="shard"/> (see <see cref="RandomAccess.Read(SafeFileHandle, Span{byte}, long)"/>).</summary>
    public int Read(int shard, Span<byte> destination, long offset)
    {
        for (int attempt = 0; ; attempt++)
        {
            SafeFileHandle handle = Get(shard);
            try
            {
                return RandomAccess.Read(handle, destination, offset);
            }
            catch (ObjectDisposedException) when (attempt < 8 && !_disposed)
            {
                // Evicted between Get and Read: reopen.
            }
        }
    }

    /// <summary>
    /// Asks the kernel to start reading a byte range of a shard into the page cache (<c>POSIX_FADV_WILLNEED</c>):
    /// it returns at once and the I/O proceeds in the background, many requests in flight, so that the later
    /// positioned read finds the bytes in memory. A hint only: does nothing where the OS does not support it.
    /// </summary>
    public void Advise(int shard, long offset, long length)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        SafeFileHandle handle = Get(shard);
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            _ = Interop.LibC.PosixFadvise((int)handle.DangerousGetHandle(), offset, length, Interop.LibC.PosixFadviseWillNeed);
        }
        catch (ObjectDisposedException)
        {
            // Evicted meanwhile: the hint is simply lost.
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            for (int s = 0; s < _handles.Length; s++)
            {
                _handles[s]?.Dispose();
                _handles[s] = null;
            }

            _open = 0;
        }
    }

    private SafeFileHandle Get(int shard)
    {
        SafeFileHandle? handle = Volatile.Read(ref _handles[shard]);
        _lastUse[shard] = _clock++; // racy on purpose: an approximate recency is all eviction needs
        return handle is { IsClosed: false } ? handle : Open(shard);
    }

    private SafeFileHandle Open(int shard)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_handles[shard] is { IsClosed: false } existing)
            {
                return existing;
            }

            if (_open >= MaxOpen)
            {
                EvictLeastRecentlyUsed(shard);
            }

            SafeFileHandle handle = File.OpenHandle(_paths[shard], FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
            Volatile.Write(ref _handles[shard], handle);
            _open++;
            return handle;
        }
    }

    private void EvictLeastRecentlyUsed(int keep)
    {
        int victim = -1;
        for (int s = 0; s < _handles.Length; s++)
        {
            if (s != keep && _handles[s] is not null && (victim < 0 || _lastUse[s] < _lastUse[victim]))
            {
                victim = s;
            }
        }

        if (victim >= 0)
        {
            SafeFileHandle handle = _handles[victim]!;
            Volatile.Write(ref _handles[victim], null);
            handle.Dispose();
            _open--;
        }
    }
}
