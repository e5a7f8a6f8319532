using Loader.Augment.Cuda;

namespace Loader.Pipeline.Gpu;

/// <summary>
/// Memory for one GPU batch, allocated once and reused for the loader's lifetime: device memory for the images, the
/// event that marks them written (<see cref="Ready"/>) and the event the consumer's stream records when it has
/// queued its last read (<see cref="ConsumerDone"/>); the next batch in this slot waits for it on the GPU before
/// writing, so a slot is never overwritten while libtorch may still read it.
/// </summary>
internal sealed class DeviceBatchSlot : IDisposable
{
    public DeviceBatchSlot(CudaDevice device, CudaStream writeStream, int batchSize, int bytesPerSample)
    {
        Images = device.Allocate((long)batchSize * bytesPerSample);
        try
        {
            Ready = device.CreateEvent();
            ConsumerDone = device.CreateEvent();
        }
        catch
        {
            Ready?.Dispose();
            Images.Dispose();
            throw;
        }

        WriteStream = writeStream;
        Labels = new int[batchSize];
        SampleIds = new long[batchSize];
        PlannedIds = new long[batchSize];
    }

    public DeviceBuffer Images { get; }

    /// <summary>Recorded on <see cref="Stream"/> once the batch's images are written.</summary>
    public CudaEvent Ready { get; }

    /// <summary>Recorded on the consumer's stream when the batch is disposed.</summary>
    public CudaEvent ConsumerDone { get; }

    /// <summary>The loader's stream the images are written on.</summary>
    public CudaStream WriteStream { get; }

    /// <summary>False until <see cref="ConsumerDone"/> is first recorded (waiting on it before that is pointless).</summary>
    public bool ConsumerDoneRecorded { get; set; }

    /// <summary>What to pass as <c>consumerDone</c> when the slot is written again: 0 before its first use.</summary>
    public nint ConsumerDonePointer => ConsumerDoneRecorded ? ConsumerDone.Pointer : 0;

    /// <summary>The delivered labels (after bad samples were replaced).</summary>
    public int[] Labels { get; }

    /// <summary>The delivered sample ids (after bad samples were replaced).</summary>
    public long[] SampleIds { get; }

    /// <summary>The ids the plan put in this batch, before any replacement: what replacements must not repeat.</summary>
    public long[] PlannedIds { get; }

    public void Dispose()
    {
        if (ConsumerDoneRecorded)
        {
            ConsumerDone.Synchronize(); // the consumer's last read of this memory has finished
        }

        Ready.Dispose();
        ConsumerDone.Dispose();
        Images.Dispose();
    }
}
