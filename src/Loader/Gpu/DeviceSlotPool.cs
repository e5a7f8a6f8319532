using System.Collections.Concurrent;
using Loader.Augment.Cuda;

namespace Loader.Pipeline.Gpu;

/// <summary>
/// The free GPU batch slots (<c>PrefetchDepth + 2</c>, allocated once). Taking one blocks while all are in use: the
/// back-pressure that keeps the GPU loader from running further ahead of the consumer than the slots allow.
/// </summary>
internal sealed class DeviceSlotPool : IDisposable
{
    private readonly List<DeviceBatchSlot> _all;
    private readonly ConcurrentStack<DeviceBatchSlot> _free = new();
    private readonly SemaphoreSlim _available;

    public DeviceSlotPool(CudaDevice device, nint stream, int slotCount, int batchSize, int bytesPerSample)
    {
        _all = new List<DeviceBatchSlot>(slotCount);
        try
        {
            for (int i = 0; i < slotCount; i++)
            {
                _all.Add(new DeviceBatchSlot(device, stream, batchSize, bytesPerSample));
                _free.Push(_all[i]);
            }
        }
        catch
        {
            _all.ForEach(slot => slot.Dispose());
            throw;
        }

        _available = new SemaphoreSlim(slotCount, slotCount);
        ImageBytes = (long)slotCount * batchSize * bytesPerSample;
    }

    public int SlotCount => _all.Count;

    /// <summary>Bytes of device memory in all slots.</summary>
    public long ImageBytes { get; }

    /// <summary>Waits for a free slot; throws <see cref="OperationCanceledException"/> when cancelled.</summary>
    public DeviceBatchSlot Take(CancellationToken cancellation)
    {
        _available.Wait(cancellation);
        _free.TryPop(out DeviceBatchSlot? slot);
        return slot!;
    }

    public void Return(DeviceBatchSlot slot)
    {
        _free.Push(slot);
        _available.Release();
    }

    public void Dispose()
    {
        foreach (DeviceBatchSlot slot in _all)
        {
            slot.Dispose();
        }

        _available.Dispose();
    }
}
