using System.Diagnostics;
using System.Threading.Channels;
using Loader.Augment.Cuda;
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
    private readonly LoaderContext _context;
    private readonly SlotPool<DeviceBatch> _pool;
    private readonly GpuBatchAssembler _assembler;
    private readonly GpuBatchProcessor _processor;
    private readonly Thread _producer;
    private readonly Func<int, Augment.ImageDecodeException, (ReadOnlyMemory<byte> Jpeg, Augment.SamplePlan Plan)> _replace;
    private int _batchIndex;
    private int _batchCount;
    private DeviceBatchSlot? _batchSlot;

    public GpuEpochRun(LoaderContext context, SlotPool<DeviceBatch> pool, GpuBatchAssembler assembler,
                       GpuBatchProcessor processor, EpochPlan plan)
        : base(context.Cursor, plan, pool.SlotCount, "GPU batch slots")
    {
        _context = context;
        _pool = pool;
        _assembler = assembler;
        _processor = processor;
        _replace = ReplaceUndecodable;
        _producer = new Thread(ProducerMain) { IsBackground = true, Name = "gpu loader producer" };
        _producer.Start();
    }

    internal Thread Producer => _producer;

    protected override void StopProducers() => _producer.Join();

    protected override void ReclaimUndelivered(ChannelReader<Batch> undelivered)
    {
        while (undelivered.TryRead(out Batch? batch))
        {
            if (batch.EndLease())
            {
                _pool.Return((DeviceBatch)batch);
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
                DeviceBatch batch = _pool.Take(cancellation);
                long taken = Stopwatch.GetTimestamp();
                _context.Metrics.AddSlotWait(taken - waitStart);
                try
                {
                    Produce(next, batch, taken, cancellation);
                }
                catch
                {
                    batch.EndLease();
                    _pool.Return(batch);
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

    // A sample nvJPEG and the CPU fallback both rejected: the one bad-sample policy replaces it (one sample, not
    // the batch), on this thread, with the batch being processed.
    private (ReadOnlyMemory<byte> Jpeg, Augment.SamplePlan Plan) ReplaceUndecodable(int sample, Augment.ImageDecodeException failure)
    {
        DeviceBatchSlot slot = _batchSlot!;
        return _assembler.ReplaceUndecodable(Plan, _batchIndex, sample, _batchCount, slot.PlannedIds, slot.SampleIds, slot.Labels, failure);
    }

    private void Produce(int index, DeviceBatch batch, long start, CancellationToken cancellation)
    {
        int count = Plan.BatchLength(index);
        if (_context.Options.ReadAheadSamples > 0)
        {
            _assembler.Prefetch(Plan, index + 1); // the next batch's reads proceed while this one is made
        }

        batch.Lease(index, count, Plan.Epoch, Plan.BatchStartPosition(index), Plan.StateAfter(index, _context.Seed));
        DeviceBatchSlot slot = batch.Slot;
        _assembler.Assemble(Plan, index, count, slot.PlannedIds, slot.SampleIds, slot.Labels, cancellation);
        long assembled = Stopwatch.GetTimestamp();

        (_batchIndex, _batchCount, _batchSlot) = (index, count, slot);
        _processor.ProcessBatch(_assembler.Jpegs(count), _assembler.Plans(count), slot.Images.Pointer, slot.ConsumerDonePointer, _replace);
        slot.Ready.Record(_processor.Stream);
        GpuBatchStats stats = _processor.LastBatch;
        _context.Metrics.AddDecodes(stats.Hardware, stats.Hybrid, stats.CpuFallback);
        _context.Metrics.AddSplicing(stats.Splicing);
        _context.Metrics.AddStageTimes(assembled - start, Stopwatch.GetTimestamp() - assembled);
    }
}
