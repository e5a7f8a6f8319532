using System.Collections.Concurrent;

namespace Loader.Pipeline.Execution;

/// <summary>
/// The free batch slots. Taking one blocks while all are in use: this is the pipeline's back-pressure, since the
/// workers cannot run further ahead of the consumer than the slots allow.
/// </summary>
internal sealed class SlotPool : IDisposable
{
    private readonly BatchSlot[] _all;
    private readonly ConcurrentStack<BatchSlot> _free = new();
    private readonly SemaphoreSlim _available;

    public SlotPool(int slotCount, int batchSize, int bytesPerSample)
    {
        _all = new BatchSlot[slotCount];
        for (int i = 0; i < slotCount; i++)
        {
            _all[i] = new BatchSlot(batchSize, bytesPerSample);
            _free.Push(_all[i]);
        }

        _available = new SemaphoreSlim(slotCount, slotCount);
    }

    public int SlotCount => _all.Length;

    public int FreeCount => _available.CurrentCount;

    /// <summary>Bytes of image memory in all slots.</summary>
    public long ImageBytes => (long)_all.Length * _all[0].ImageBytes;

    /// <summary>Waits for a free slot; throws <see cref="OperationCanceledException"/> when cancelled.</summary>
    public BatchSlot Take(CancellationToken cancellation)
    {
        _available.Wait(cancellation);
        _free.TryPop(out BatchSlot? slot);
        return slot!;
    }

    public void Return(BatchSlot slot)
    {
        _free.Push(slot);
        _available.Release();
    }

    public void Dispose()
    {
        foreach (BatchSlot slot in _all)
        {
            slot.Dispose();
        }

        _available.Dispose();
    }
}
