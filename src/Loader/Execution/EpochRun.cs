using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Loader.Pipeline.Order;
using Loader.Pipeline.Sources;

namespace Loader.Pipeline.Execution;

/// <summary>
/// Runs one epoch (from a starting position) on N worker threads and hands finished batches to the consumer in
/// order.
/// </summary>
/// <remarks>
/// Work is claimed one sample at a time from a single counter that walks batch 0's samples, then batch 1's, ...,
/// so all workers help finish the oldest batch first and the next batch is started while the last samples of the
/// previous one are still decoding. A batch is "opened" (given a free slot and its planned sample ids), in order,
/// by one opener thread; when no slot is free the opener waits and the workers soon run out of opened work: that
/// is the back-pressure. The opener is the only thread that waits for slots, so no worker ever waits while holding
/// work another one needs. Each worker decodes its sample straight into the slot. The worker that finishes a
/// batch's last sample publishes it, and
/// every following batch that is already complete, into a bounded channel, so batches leave in plan order even
/// though they complete out of order. At most <c>slots</c> batches exist at once, so the ring of open batches
/// indexed by <c>batch % slots</c> never overwrites one that is still needed.
/// </remarks>
internal sealed class EpochRun : IDisposable
{
    private readonly DataLoader _loader;
    private readonly EpochPlan _plan;
    private readonly Batch?[] _ring;
    private readonly Channel<Batch> _channel;
    private readonly CancellationTokenSource _cancellation = new();
    private readonly Thread[] _threads;
    private readonly object _openedSignal = new();
    private readonly Thread _opener;
    private readonly CancellationTokenRegistration _wakeOnCancel;
    private readonly Lock _publishLock = new();
    private readonly Lock _failureLock = new();
    private readonly long _startTicks;

    private long _nextWork;
    private int _opened;
    private int _nextToPublish;
    private int _delivered;
    private long _lastTakeTicks;
    private Exception? _failure;
    private bool _disposed;

    public EpochRun(DataLoader loader, EpochPlan plan)
    {
        _loader = loader;
        _plan = plan;
        _ring = new Batch?[loader.Pool.SlotCount];
        _channel = Channel.CreateBounded<Batch>(new BoundedChannelOptions(loader.Pool.SlotCount)
        {
            SingleReader = true,
            SingleWriter = true, // every write happens under _publishLock
            FullMode = BoundedChannelFullMode.Wait,
        });
        _startTicks = Stopwatch.GetTimestamp();
        _lastTakeTicks = _startTicks;
        if (plan.BatchCount == 0)
        {
            _channel.Writer.TryComplete();
        }

        _threads = new Thread[loader.Workers.Length];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(WorkerMain)
            {
                IsBackground = true,
                Name = $"loader worker {i}",
            };
        }

        _wakeOnCancel = _cancellation.Token.Register(WakeWaiters);
        _opener = new Thread(OpenerMain) { IsBackground = true, Name = "loader batch opener" };
        _opener.Start();
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i].Start(i);
        }
    }

    /// <summary>The worker threads and the opener (tests check that they all stop).</summary>
    internal IReadOnlyList<Thread> Threads => [.. _threads, _opener];

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
                throw new ObjectDisposedException(nameof(DataLoader), "The loader was disposed while waiting for a batch.");
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
                throw new ObjectDisposedException(nameof(DataLoader), "The loader was disposed while waiting for a batch.");
            }
        }
    }

    /// <summary>Stops the workers, waits for them, and takes back the slots of batches the consumer never got.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _cancellation.Cancel();
        _opener.Join();
        foreach (Thread thread in _threads)
        {
            thread.Join();
        }

        _wakeOnCancel.Dispose();

        _channel.Writer.TryComplete();
        while (_channel.Reader.TryRead(out _))
        {
            // Drained; the slots are reclaimed below, through the ring.
        }

        _loader.Metrics.QueueCleared();
        for (int b = _delivered; b < _opened; b++)
        {
            Batch? batch = _ring[b % _ring.Length];
            if (batch?.Detach() is { } slot)
            {
                _loader.Pool.Return(slot);
            }
        }

        Array.Clear(_ring);
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

    /// <summary>Checks for failure and for a consumer that holds every slot; false when the epoch is over.</summary>
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
                $"All {_loader.Pool.SlotCount} batch slots are held by the consumer, so no further batch can be made: " +
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

    private void WorkerMain(object? state)
    {
        int workerIndex = (int)state!;
        ISampleWorker worker = _loader.Workers[workerIndex];
        CancellationToken cancellation = _cancellation.Token;
        int batchSize = _plan.BatchSize;
        long allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            while (!cancellation.IsCancellationRequested)
            {
                long work = Interlocked.Increment(ref _nextWork) - 1;
                long batchIndex = work / batchSize;
                if (batchIndex >= _plan.BatchCount)
                {
                    return;
                }

                Batch batch = Open((int)batchIndex, cancellation);
                int index = (int)(work - (batchIndex * batchSize));
                if (index >= batch.Count)
                {
                    continue; // the short last batch has fewer samples than claim numbers
                }

                Produce(batch, index, worker);
                if (Interlocked.Decrement(ref batch.Remaining) == 0)
                {
                    Publish();
                }
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Disposed (or another worker failed): stop quietly.
        }
        catch (Exception e)
        {
            Fail(e);
        }
        finally
        {
            _loader.Metrics.AddWorkerAllocations(GC.GetAllocatedBytesForCurrentThread() - allocatedAtStart);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Batch Open(int batchIndex, CancellationToken cancellation)
    {
        if (batchIndex >= Volatile.Read(ref _opened))
        {
            WaitUntilOpened(batchIndex, cancellation);
        }

        return _ring[batchIndex % _ring.Length]!;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WaitUntilOpened(int batchIndex, CancellationToken cancellation)
    {
        lock (_openedSignal)
        {
            while (_opened <= batchIndex)
            {
                cancellation.ThrowIfCancellationRequested();
                Monitor.Wait(_openedSignal);
            }
        }
    }

    /// <summary>
    /// The opener thread: gives each batch, in order, a free slot and its planned sample ids. It is the only thread
    /// that waits for slots, so a worker waiting for a batch to open never holds anything another worker needs.
    /// </summary>
    private void OpenerMain()
    {
        CancellationToken cancellation = _cancellation.Token;
        try
        {
            for (int next = 0; next < _plan.BatchCount; next++)
            {
                long waitStart = Stopwatch.GetTimestamp();
                BatchSlot slot = _loader.Pool.Take(cancellation);
                _loader.Metrics.AddSlotWait(Stopwatch.GetTimestamp() - waitStart);

                int count = _plan.BatchLength(next);
                for (int i = 0; i < count; i++)
                {
                    slot.PlannedIds[i] = _plan.SampleId(next, i);
                }

                _ring[next % _ring.Length] = new Batch(slot, _loader.ReleaseBatch, _loader.Output, next, count, _plan.Epoch,
                                                       _plan.BatchStartPosition(next), _plan.StateAfter(next, _loader.Seed));
                lock (_openedSignal)
                {
                    Volatile.Write(ref _opened, next + 1);
                    Monitor.PulseAll(_openedSignal);
                }
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Disposed (or a worker failed): stop quietly.
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    private void WakeWaiters()
    {
        lock (_openedSignal)
        {
            Monitor.PulseAll(_openedSignal);
        }
    }

    /// <summary>One sample into its place in the slot, replacing bad samples by the plan's rule.</summary>
    private void Produce(Batch batch, int index, ISampleWorker worker)
    {
        BatchSlot slot = batch.Slot;
        long sampleId = slot.PlannedIds[index];
        Span<byte> destination = slot.Sample(index);
        var times = default(StageTimes);
        int label;
        int attempt = 0;
        while (true)
        {
            if (!_loader.IsKnownBad(sampleId))
            {
                try
                {
                    label = worker.Load(sampleId, _plan.Epoch, destination, ref times);
                    break;
                }
                catch (BadSampleException e) when (!_loader.Strict)
                {
                    _loader.ReportBadSample(sampleId, e);
                }
            }

            _loader.Metrics.SampleSkipped();
            sampleId = Replacement(batch, index, ++attempt);
        }

        slot.SampleIds[index] = sampleId;
        slot.Labels[index] = label;
        _loader.Metrics.AddStageTimes(times.Read, times.Decode);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long Replacement(Batch batch, int index, int attempt) =>
        _plan.Replacement(batch.Index, index, attempt, batch.Slot.PlannedIds.AsSpan(0, batch.Count));

    private void Publish()
    {
        lock (_publishLock)
        {
            while (_nextToPublish < Volatile.Read(ref _opened))
            {
                Batch? batch = _ring[_nextToPublish % _ring.Length];
                if (batch is null || batch.Index != _nextToPublish || Volatile.Read(ref batch.Remaining) != 0)
                {
                    break;
                }

                // Never blocks: at most SlotCount batches exist and the channel holds that many.
                bool written = _channel.Writer.TryWrite(batch);
                Debug.Assert(written, "the channel is as large as the slot pool");
                _loader.Metrics.BatchQueued();
                _nextToPublish++;
            }

            if (_nextToPublish == _plan.BatchCount)
            {
                _channel.Writer.TryComplete();
            }
        }
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
