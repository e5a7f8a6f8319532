using System.Diagnostics;
using System.Threading.Channels;
using Loader.Pipeline.Execution;
using Loader.Pipeline.Order;

namespace Loader.Pipeline.Gpu;

/// <summary>
/// The GPU loader's producer for one epoch (from a starting position): one thread takes a free device slot for
/// each batch in plan order, assembles the batch on the host (records, headers, plans; on
/// <see cref="LoaderOptions.Threads"/> threads), queues its decode and augmentation on the GPU, records the slot's
/// ready event and hands the batch to the consumer (through <see cref="EpochRun"/>). The GPU works on batch n while
/// the host assembles batch n+1; the consumer's dispose recycles the slot.
/// </summary>
internal sealed class GpuEpochRun : EpochRun
{
    private readonly GpuDataLoader _loader;
    private readonly Thread _producer;

    public GpuEpochRun(GpuDataLoader loader, EpochPlan plan)
        : base(loader.Cursor, plan, loader.Pool.SlotCount, "GPU batch slots")
    {
        _loader = loader;
        _producer = new Thread(ProducerMain) { IsBackground = true, Name = "gpu loader producer" };
        _producer.Start();
    }

    internal Thread Producer => _producer;

    protected override void StopProducers() => _producer.Join();

    protected override void ReclaimUndelivered(ChannelReader<Batch> undelivered)
    {
        while (undelivered.TryRead(out Batch? batch))
        {
            if (batch.DetachDevice() is { } slot)
            {
                _loader.Pool.Return(slot);
            }
        }
    }

    private void ProducerMain()
    {
        CancellationToken cancellation = Cancellation;
        try
        {
            for (int next = 0; next < Plan.BatchCount; next++)
            {
                long waitStart = Stopwatch.GetTimestamp();
                DeviceBatchSlot slot = _loader.Pool.Take(cancellation);
                long taken = Stopwatch.GetTimestamp();
                _loader.Metrics.AddSlotWait(taken - waitStart);
                Batch batch;
                try
                {
                    batch = Produce(next, slot, taken, cancellation);
                }
                catch
                {
                    _loader.Pool.Return(slot);
                    throw;
                }

                Queue(batch);
            }

            Complete();
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Disposed: stop quietly.
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    private Batch Produce(int index, DeviceBatchSlot slot, long start, CancellationToken cancellation)
    {
        int count = Plan.BatchLength(index);
        GpuBatchAssembler assembler = _loader.Assembler;
        assembler.Assemble(Plan, index, count, slot.PlannedIds, slot.SampleIds, slot.Labels, cancellation);
        long assembled = Stopwatch.GetTimestamp();

        _loader.Processor.ProcessBatch(assembler.Jpegs(count), assembler.Plans(count), slot.Images.Pointer, slot.ConsumerDonePointer);
        slot.Ready.Record(_loader.Processor.Stream);
        _loader.CountDecodes(_loader.Processor.LastBatch);
        _loader.Metrics.AddStageTimes(assembled - start, Stopwatch.GetTimestamp() - assembled);

        return new Batch(slot, _loader.ReleaseBatch, _loader.Output, index, count, Plan.Epoch,
                         Plan.BatchStartPosition(index), Plan.StateAfter(index, _loader.State.Seed));
    }
}
