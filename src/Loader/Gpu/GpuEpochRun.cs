using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Loader.Pipeline.Order;

namespace Loader.Pipeline.Gpu;

/// <summary>
/// Runs one epoch (from a starting position) of the GPU loader: one producer thread takes a free device slot for
/// each batch in plan order, assembles the batch on the host (records, headers, plans; on
/// <see cref="LoaderOptions.Threads"/> threads), queues its decode and augmentation on the GPU, records the slot's
/// ready event and hands the batch to the consumer through a bounded channel. The GPU works on batch n while the
/// host assembles batch n+1; the consumer's dispose recycles the slot.
/// </summary>
internal sealed class GpuEpochRun : IDisposable
{
    private readonly GpuDataLoader _loader;
    private readonly EpochPlan _plan;
    private readonly Channel<Batch> _channel;
    private readonly CancellationTokenSource _cancellation = new();
    private readonly Thread _producer;
    private readonly Lock _failureLock = new();
    private readonly long _startTicks;

    private int _delivered;
    private long _lastTakeTicks;
    private Exception? _failure;
    private bool _disposed;

    public GpuEpochRun(GpuDataLoader loader, EpochPlan plan)
    {
        _loader = loader;
        _plan = plan;
        _channel = Channel.CreateBounded<Batch>(new BoundedChannelOptions(loader.Pool.SlotCount)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _startTicks = Stopwatch.GetTimestamp();
        _lastTakeTicks = _startTicks;
        _producer = new Thread(ProducerMain) { IsBackground = true, Name = "gpu loader producer" };
        _producer.Start();
    }

    internal Thread Producer => _producer;

    /// <summary>The next batch, waiting for it if need be; <c>null</c> at the end of the epoch.</summary>
    public Batch? Next()
    {
        long waitStart = Stopwatch.GetTimestamp();
        while (true)
        {
            if (_channel.Reader.TryRead(out Batch? batch))
            {
                return Taken(batch, waitStart);
            }

            if (!BeforeWait())
            {
                return null;
            }

            try
            {
                ValueTask<bool> wait = _channel.Reader.WaitToReadAsync(_cancellation.Token);
                bool more = wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
                if (!more)
                {
                    return Finished();
                }
            }
            catch (OperationCanceledException)
            {
                ThrowIfFailed();
                throw new ObjectDisposedException(nameof(GpuDataLoader), "The loader was disposed while waiting for a batch.");
            }
        }
    }

    /// <summary>The asynchronous <see cref="Next"/>.</summary>
    public async ValueTask<Batch?> NextAsync(CancellationToken cancellationToken)
    {
        long waitStart = Stopwatch.GetTimestamp();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_cancellation.Token, cancellationToken);
        while (true)
        {
            if (_channel.Reader.TryRead(out Batch? batch))
            {
                return Taken(batch, waitStart);
            }

            if (!BeforeWait())
            {
                return null;
            }

            try
            {
                if (!await _channel.Reader.WaitToReadAsync(linked.Token).ConfigureAwait(false))
                {
                    return Finished();
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                ThrowIfFailed();
                throw new ObjectDisposedException(nameof(GpuDataLoader), "The loader was disposed while waiting for a batch.");
            }
        }
    }

    /// <summary>Stops the producer, waits for it, and takes back the slots of batches the consumer never got.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _cancellation.Cancel();
        _producer.Join();
        _channel.Writer.TryComplete();
        while (_channel.Reader.TryRead(out Batch? batch))
        {
            if (batch.DetachDevice() is { } slot)
            {
                _loader.Pool.Return(slot);
            }
        }

        _loader.Metrics.QueueCleared();
        _loader.Metrics.AddActive(_lastTakeTicks - _startTicks);
        _cancellation.Dispose();
    }

    private Batch Taken(Batch batch, long waitStart)
    {
        long now = Stopwatch.GetTimestamp();
        _loader.Metrics.AddConsumerWait(now - waitStart);
        _lastTakeTicks = now;
        _delivered++;
        _loader.OnTaken(batch, _channel.Reader.Count);
        return batch;
    }

    private bool BeforeWait()
    {
        ThrowIfFailed();
        if (_delivered == _plan.BatchCount)
        {
            Finished();
            return false;
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_loader.HeldByConsumer >= _loader.Pool.SlotCount)
        {
            throw new InvalidOperationException(
                $"All {_loader.Pool.SlotCount} GPU batch slots are held by the consumer, so no further batch can be made: " +
                "dispose each Batch when you are done with it (or raise LoaderOptions.PrefetchDepth).");
        }

        return true;
    }

    private Batch? Finished()
    {
        ThrowIfFailed();
        _loader.OnEpochFinished(_plan);
        return null;
    }

    private void ThrowIfFailed()
    {
        Exception? failure = Volatile.Read(ref _failure);
        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    private void ProducerMain()
    {
        CancellationToken cancellation = _cancellation.Token;
        try
        {
            for (int next = 0; next < _plan.BatchCount; next++)
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

                // Never blocks: at most SlotCount batches exist and the channel holds that many.
                bool written = _channel.Writer.TryWrite(batch);
                Debug.Assert(written, "the channel is as large as the slot pool");
                _loader.Metrics.BatchQueued();
            }

            _channel.Writer.TryComplete();
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
        int count = _plan.BatchLength(index);
        GpuBatchAssembler assembler = _loader.Assembler;
        assembler.Assemble(_plan, index, count, slot.PlannedIds, slot.SampleIds, slot.Labels, cancellation);
        long assembled = Stopwatch.GetTimestamp();

        _loader.Processor.ProcessBatch(assembler.Jpegs(count), assembler.Plans(count), slot.Images.Pointer, slot.ConsumerDonePointer);
        slot.Ready.Record(_loader.Processor.Stream);
        _loader.CountDecodes(_loader.Processor.LastBatch);
        _loader.Metrics.AddStageTimes(assembled - start, Stopwatch.GetTimestamp() - assembled);

        return new Batch(slot, _loader.ReleaseBatch, _loader.Output, index, count, _plan.Epoch,
                         _plan.BatchStartPosition(index), _plan.StateAfter(index, _loader.State.Seed));
    }

    private void Fail(Exception failure)
    {
        lock (_failureLock)
        {
            _failure ??= failure;
        }

        _cancellation.Cancel();
        _channel.Writer.TryComplete();
    }
}
