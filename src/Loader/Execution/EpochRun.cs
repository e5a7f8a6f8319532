using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Loader.Pipeline.Order;

namespace Loader.Pipeline.Execution;

/// <summary>
/// One epoch (from a starting position) of a loader: the consumer side shared by the CPU and GPU runs. Producers
/// (<see cref="CpuEpochRun"/>: an opener and N decoding workers; <see cref="Gpu.GpuEpochRun"/>: one thread driving the
/// GPU) put finished batches, in plan order, into a bounded channel as large as the slot pool, so a write never
/// blocks; the consumer takes them with <see cref="Next"/> or <see cref="NextAsync"/>. A producer failure is kept and
/// rethrown to the consumer; disposing stops the producers and takes back the slots of batches never delivered.
/// </summary>
internal abstract class EpochRun : IDisposable
{
    private readonly LoaderCursor _cursor;
    private readonly Channel<Batch> _channel;
    private readonly CancellationTokenSource _cancellation = new();

    // Signalled whenever a batch is queued, the run completes or fails, or it is disposed: what the consumer waits
    // on, allocation-free (the channel's own waits allocate per wait). Never disposed: a consumer may still be
    // waking from it while the run is disposed, and it holds no kernel handle.
    private readonly ConsumerSignal _published = new();
    private readonly Lock _failureLock = new();
    private readonly int _slotCount;
    private readonly string _slotsName;
    private readonly long _startTicks;

    private int _delivered;
    private long _lastTakeTicks;
    private Exception? _failure;
    private bool _disposed;

    /// <param name="cursor">The loader's state, metrics and held-batch count.</param>
    /// <param name="plan">The epoch to run.</param>
    /// <param name="slotCount">The loader's batch slots: the channel's capacity.</param>
    /// <param name="slotsName">What the slots are called in the all-slots-held error ("batch slots").</param>
    protected EpochRun(LoaderCursor cursor, EpochPlan plan, int slotCount, string slotsName)
    {
        _cursor = cursor;
        Plan = plan;
        _slotCount = slotCount;
        _slotsName = slotsName;
        _channel = Channel.CreateBounded<Batch>(new BoundedChannelOptions(slotCount)
        {
            SingleReader = true,
            SingleWriter = true, // producers write from one thread or under a lock
            FullMode = BoundedChannelFullMode.Wait,
        });
        _startTicks = Stopwatch.GetTimestamp();
        _lastTakeTicks = _startTicks;
        if (plan.BatchCount == 0)
        {
            _channel.Writer.TryComplete();
        }
    }

    protected EpochPlan Plan { get; }

    /// <summary>Batches the consumer has taken.</summary>
    protected int Delivered => _delivered;

    /// <summary>Cancelled when the run is disposed or a producer fails.</summary>
    protected CancellationToken Cancellation => _cancellation.Token;

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

            _published.ArmSync();
            if (_channel.Reader.TryRead(out batch))
            {
                return Taken(batch, waitStart);
            }

            if (_channel.Reader.Completion.IsCompleted)
            {
                return Ended();
            }

            _published.WaitSync();
            if (_disposed)
            {
                ThrowDisposedWhileWaiting();
            }
        }
    }

    /// <summary>The asynchronous <see cref="Next"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Batch?> NextAsync(CancellationToken cancellationToken)
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

            _published.ArmAsync();
            if (_channel.Reader.TryRead(out batch))
            {
                _published.DisarmAsync();
                return Taken(batch, waitStart);
            }

            if (_channel.Reader.Completion.IsCompleted)
            {
                _published.DisarmAsync();
                return Ended();
            }

            // Only the caller's token: disposing or failing the run signals too (a linked token source would
            // cost an allocation per call).
            await _published.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (_disposed)
            {
                ThrowDisposedWhileWaiting();
            }
        }
    }

    /// <summary>Stops the producers, waits for them, and takes back the slots of batches the consumer never got.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _cancellation.Cancel();
        _published.Signal();
        StopProducers();
        _channel.Writer.TryComplete();
        ReclaimUndelivered(_channel.Reader);
        _cursor.Metrics.QueueCleared();
        _cursor.Metrics.AddActive(_lastTakeTicks - _startTicks);
        _cancellation.Dispose();
    }

    /// <summary>Waits for every producer thread to stop (the run is already cancelled).</summary>
    protected abstract void StopProducers();

    /// <summary>Returns to the pool the slots of batches made but not delivered (the channel is complete; the
    /// producers have stopped).</summary>
    protected abstract void ReclaimUndelivered(ChannelReader<Batch> undelivered);

    /// <summary>Hands the next batch in plan order to the consumer. Never blocks: at most SlotCount batches exist
    /// and the channel holds that many.</summary>
    protected void Queue(Batch batch)
    {
        bool written = _channel.Writer.TryWrite(batch);
        Debug.Assert(written, "the channel is as large as the slot pool");
        _cursor.Metrics.BatchQueued();
        _published.Signal();
    }

    /// <summary>Marks the end of the epoch: the consumer gets <c>null</c> once it has taken every queued batch.</summary>
    protected void Complete()
    {
        _channel.Writer.TryComplete();
        _published.Signal();
    }

    /// <summary>Keeps the first failure for the consumer and stops the run.</summary>
    protected void Fail(Exception failure)
    {
        lock (_failureLock)
        {
            _failure ??= failure;
        }

        _cancellation.Cancel();
        _channel.Writer.TryComplete();
        _published.Signal();
    }

    private Batch Taken(Batch batch, long waitStart)
    {
        long now = Stopwatch.GetTimestamp();
        _cursor.Metrics.AddConsumerWait(now - waitStart);
        _lastTakeTicks = now;
        _delivered++;
        _cursor.OnTaken(batch, _channel.Reader.Count);
        return batch;
    }

    /// <summary>Checks for failure and for a consumer that holds every slot; false when the epoch is over.</summary>
    private bool BeforeWait()
    {
        ThrowIfFailed();
        if (_delivered == Plan.BatchCount)
        {
            Finished();
            return false;
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_cursor.HeldByConsumer >= _slotCount)
        {
            ThrowAllSlotsHeld();
        }

        return true;
    }

    /// <summary>The channel is complete and empty: the epoch ended, the run failed, or it was disposed.</summary>
    private Batch? Ended()
    {
        if (_disposed)
        {
            ThrowDisposedWhileWaiting();
        }

        return Finished();
    }

    private Batch? Finished()
    {
        ThrowIfFailed();
        _cursor.OnEpochFinished(Plan);
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

    [DoesNotReturn]
    [StackTraceHidden]
    private void ThrowDisposedWhileWaiting()
    {
        ThrowIfFailed();
        throw new ObjectDisposedException(_cursor.OwnerName, "The loader was disposed while waiting for a batch.");
    }

    [DoesNotReturn]
    [StackTraceHidden]
    private void ThrowAllSlotsHeld() =>
        throw new InvalidOperationException(
            $"All {_slotCount} {_slotsName} are held by the consumer, so no further batch can be made: " +
            "dispose each Batch when you are done with it (or raise LoaderOptions.PrefetchDepth).");
}
