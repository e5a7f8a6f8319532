using System.Collections.Concurrent;

namespace Loader.Pipeline.Execution;

/// <summary>
/// The free batch slots (<c>PrefetchDepth + 2</c>, allocated once): pinned host slots for <see cref="DataLoader"/>,
/// device slots for the GPU loader. Taking one blocks while all are in use: this is the pipeline's back-pressure,
/// since the producers cannot run further ahead of the consumer than the slots allow.
/// </summary>
internal sealed class SlotPool<TSlot> : IDisposable
    where TSlot : class, IDisposable
{
    private readonly TSlot[] _all;
    private readonly ConcurrentStack<TSlot> _free = new();
    private readonly SemaphoreSlim _available;

    /// <param name="slotCount">Slots to allocate.</param>
    /// <param name="imageBytesPerSlot">Image memory in one slot (what <see cref="ImageBytes"/> adds up).</param>
    /// <param name="createSlot">Allocates one slot; if it throws, the slots made so far are freed.</param>
    public SlotPool(int slotCount, long imageBytesPerSlot, Func<TSlot> createSlot)
    {
        _all = new TSlot[slotCount];
        int created = 0;
        try
        {
            for (; created < slotCount; created++)
            {
                _all[created] = createSlot();
                _free.Push(_all[created]);
            }
        }
        catch
        {
            for (int i = 0; i < created; i++)
            {
                _all[i].Dispose();
            }

            throw;
        }

        _available = new SemaphoreSlim(slotCount, slotCount);
        ImageBytes = slotCount * imageBytesPerSlot;
    }

    public int SlotCount => _all.Length;

    public int FreeCount => _available.CurrentCount;

    /// <summary>Bytes of image memory in all slots.</summary>
    public long ImageBytes { get; }

    /// <summary>Waits for a free slot; throws <see cref="OperationCanceledException"/> when cancelled.</summary>
    public TSlot Take(CancellationToken cancellation)
    {
        _available.Wait(cancellation);
        _free.TryPop(out TSlot? slot);
        return slot!;
    }

    public void Return(TSlot slot)
    {
        _free.Push(slot);
        _available.Release();
    }

    public void Dispose()
    {
        foreach (TSlot slot in _all)
        {
            slot.Dispose();
        }

        _available.Dispose();
    }
}
