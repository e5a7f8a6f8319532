namespace Loader.Pipeline.Execution;

/// <summary>
/// The free batch slots (<c>PrefetchDepth + 2</c>, allocated once, each with its one batch object): host slots for
/// the CPU loader, device slots for the GPU loader. Taking one blocks while all are in use: this is the pipeline's
/// back-pressure, since the producers cannot run further ahead of the consumer than the slots allow. Disposing the
/// pool frees the free slots at once and every slot still held by the consumer when it comes back, so a batch the
/// consumer holds stays valid until it is disposed, even after the loader is.
/// </summary>
internal sealed class SlotPool<TBatch> : IDisposable
    where TBatch : Batch
{
    private readonly TBatch[] _free;
    private readonly Action<TBatch> _freeMemory;
    private readonly SemaphoreSlim _available;
    private readonly Lock _lock = new();
    private int _freeCount;
    private bool _closed;

    /// <param name="slotCount">Slots to allocate.</param>
    /// <param name="imageBytesPerSlot">Image memory in one slot (what <see cref="ImageBytes"/> adds up).</param>
    /// <param name="createSlot">Allocates one slot and its batch; if it throws, the slots made so far are freed.</param>
    /// <param name="freeMemory">Frees one slot's memory.</param>
    public SlotPool(int slotCount, long imageBytesPerSlot, Func<TBatch> createSlot, Action<TBatch> freeMemory)
    {
        _free = new TBatch[slotCount];
        _freeMemory = freeMemory;
        try
        {
            for (; _freeCount < slotCount; _freeCount++)
            {
                _free[_freeCount] = createSlot();
            }
        }
        catch
        {
            for (int i = 0; i < _freeCount; i++)
            {
                freeMemory(_free[i]);
            }

            throw;
        }

        SlotCount = slotCount;
        _available = new SemaphoreSlim(slotCount, slotCount);
        ImageBytes = slotCount * imageBytesPerSlot;
    }

    public int SlotCount { get; }

    public int FreeCount => _available.CurrentCount;

    /// <summary>Bytes of image memory in all slots.</summary>
    public long ImageBytes { get; }

    /// <summary>Waits for a free slot; throws <see cref="OperationCanceledException"/> when cancelled.</summary>
    public TBatch Take(CancellationToken cancellation)
    {
        _available.Wait(cancellation);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            return _free[--_freeCount];
        }
    }

    /// <summary>Gives a slot back (a disposed batch, or one never delivered); after <see cref="Dispose"/> it is freed.</summary>
    public void Return(TBatch slot)
    {
        lock (_lock)
        {
            if (!_closed)
            {
                _free[_freeCount++] = slot;
                _available.Release();
                return;
            }
        }

        _freeMemory(slot);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            for (int i = 0; i < _freeCount; i++)
            {
                _freeMemory(_free[i]);
            }

            _freeCount = 0;
        }
    }
}
