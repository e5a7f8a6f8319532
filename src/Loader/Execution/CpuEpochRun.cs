using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Loader.Pipeline.Order;
using Loader.Pipeline.Sources;

namespace Loader.Pipeline.Execution;

/// <summary>
/// The CPU loader's producers for one epoch: N worker threads decode into pinned host slots and finished batches
/// go to the consumer (through <see cref="EpochRun"/>) in order.
/// </summary>
/// <remarks>
/// Work is claimed one sample at a time from a single counter that walks batch 0's samples, then batch 1's, ...,
/// so all workers help finish the oldest batch first and the next batch is started while the last samples of the
/// previous one are still decoding. A batch is "opened" (given a free slot and its planned sample ids), in order,
/// by one opener thread; when no slot is free the opener waits and the workers soon run out of opened work: that
/// is the back-pressure. The opener is the only thread that waits for slots, so no worker ever waits while holding
/// work another one needs. Each worker decodes its sample straight into the slot. The worker that finishes a
/// batch's last sample publishes it, and every following batch that is already complete, into the channel, so
/// batches leave in plan order even though they complete out of order. At most <c>slots</c> batches exist at once,
/// so the ring of open batches indexed by <c>batch % slots</c> never overwrites one that is still needed.
/// </remarks>
internal sealed class CpuEpochRun : EpochRun
{
    private readonly LoaderContext _context;
    private readonly SlotPool<HostBatch> _pool;
    private readonly ISampleWorker[] _workers;
    private readonly HostBatch?[] _ring;
    private readonly Thread[] _threads;
    private readonly object _openedSignal = new();
    private readonly Thread _opener;
    private readonly Thread? _readAhead;
    private readonly ISampleSource _source;
    private readonly CancellationTokenRegistration _wakeOnCancel;
    private readonly Lock _publishLock = new();

    private long _nextWork;
    private int _opened;
    private int _nextToPublish;

    public CpuEpochRun(LoaderContext context, SlotPool<HostBatch> pool, ISampleSource source, ISampleWorker[] workers,
                       EpochPlan plan)
        : base(context.Cursor, plan, pool.SlotCount, "batch slots")
    {
        _context = context;
        _source = source;
        _pool = pool;
        _workers = workers;
        _ring = new HostBatch?[pool.SlotCount];
        _threads = new Thread[workers.Length];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(WorkerMain)
            {
                IsBackground = true,
                Name = $"loader worker {i}",
            };
        }

        _wakeOnCancel = Cancellation.Register(WakeWaiters);
        _opener = new Thread(OpenerMain) { IsBackground = true, Name = "loader batch opener" };
        _opener.Start();
        if (context.Options.ReadAheadSamples > 0 && plan.SamplesPerRank > 0)
        {
            _readAhead = new Thread(ReadAheadMain) { IsBackground = true, Name = "loader read-ahead" };
            _readAhead.Start();
        }

        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i].Start(i);
        }
    }

    /// <summary>The worker threads and the opener (tests check that they all stop).</summary>
    internal IReadOnlyList<Thread> Threads => _readAhead is null ? [.. _threads, _opener] : [.. _threads, _opener, _readAhead];

    protected override void StopProducers()
    {
        _opener.Join();
        _readAhead?.Join();
        foreach (Thread thread in _threads)
        {
            thread.Join();
        }

        _wakeOnCancel.Dispose();
    }

    protected override void ReclaimUndelivered(ChannelReader<Batch> undelivered)
    {
        while (undelivered.TryRead(out _))
        {
            // Drained; the slots are reclaimed below, through the ring (it also holds opened, unfinished batches).
        }

        for (int b = Delivered; b < _opened; b++)
        {
            HostBatch? batch = _ring[b % _ring.Length];
            if (batch is not null && batch.Index == b && batch.EndLease())
            {
                _pool.Return(batch);
            }
        }

        Array.Clear(_ring);
    }

    private void WorkerMain(object? state)
    {
        int workerIndex = (int)state!;
        ISampleWorker worker = _workers[workerIndex];
        CancellationToken cancellation = Cancellation;
        int batchSize = Plan.BatchSize;
        long allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            while (!cancellation.IsCancellationRequested)
            {
                long work = Interlocked.Increment(ref _nextWork) - 1;
                long batchIndex = work / batchSize;
                if (batchIndex >= Plan.BatchCount)
                {
                    return;
                }

                HostBatch batch = Open((int)batchIndex, cancellation);
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
            _context.Metrics.AddWorkerAllocations(GC.GetAllocatedBytesForCurrentThread() - allocatedAtStart);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private HostBatch Open(int batchIndex, CancellationToken cancellation)
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
        CancellationToken cancellation = Cancellation;
        try
        {
            for (int next = 0; next < Plan.BatchCount; next++)
            {
                long waitStart = Stopwatch.GetTimestamp();
                HostBatch batch = _pool.Take(cancellation);
                _context.Metrics.AddSlotWait(Stopwatch.GetTimestamp() - waitStart);

                int count = Plan.BatchLength(next);
                long[] planned = batch.PlannedIds;
                for (int i = 0; i < count; i++)
                {
                    planned[i] = Plan.SampleId(next, i);
                }

                batch.Lease(next, count, Plan.Epoch, Plan.BatchStartPosition(next), Plan.StateAfter(next, _context.Seed));
                _ring[next % _ring.Length] = batch;
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

    /// <summary>
    /// The read-ahead thread: issues the reads of the samples the workers will claim next, in plan order, keeping
    /// at most <see cref="LoaderOptions.ReadAheadSamples"/> ahead of them. It only hints (see
    /// <see cref="ISampleSource.Prefetch"/>): nothing waits for it, and if a hint fails the read-ahead stops and the
    /// workers' own reads report whatever is wrong.
    /// </summary>
    private void ReadAheadMain()
    {
        CancellationToken cancellation = Cancellation;
        int window = _context.Options.ReadAheadSamples;
        int batchSize = Plan.BatchSize;
        long total = Plan.SamplesPerRank;
        try
        {
            for (long next = 0; next < total && !cancellation.IsCancellationRequested;)
            {
                long claimed = Volatile.Read(ref _nextWork);
                if (next < claimed)
                {
                    next = claimed; // the workers got there first: a hint for those would come too late
                    continue;
                }

                if (next >= claimed + window)
                {
                    Thread.Sleep(1); // far enough ahead: let the workers catch up
                    continue;
                }

                _source.Prefetch(Plan.SampleId((int)(next / batchSize), (int)(next % batchSize)));
                next++;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // A hint only: the workers' reads of these samples report the problem.
        }
    }

    private void WakeWaiters()
    {
        lock (_openedSignal)
        {
            Monitor.PulseAll(_openedSignal);
        }
    }

    /// <summary>One sample into its place in the slot, replacing bad samples by the one policy.</summary>
    private void Produce(HostBatch batch, int index, ISampleWorker worker)
    {
        var attempt = new CpuAttempt { Worker = worker, Slot = batch.Slot, Index = index, Epoch = Plan.Epoch };
        long delivered = _context.BadSamples.Deliver(Plan, batch.Index, index, batch.PlannedIds.AsSpan(0, batch.Count), ref attempt);
        batch.Slot.SampleIds[index] = delivered;
        batch.Slot.Labels[index] = attempt.Label;
        _context.Metrics.AddStageTimes(attempt.Times.Read, attempt.Times.Decode);
        _context.Metrics.AddSplicing(attempt.Times.Splicing);
    }

    private void Publish()
    {
        lock (_publishLock)
        {
            while (_nextToPublish < Volatile.Read(ref _opened))
            {
                HostBatch? batch = _ring[_nextToPublish % _ring.Length];
                if (batch is null || batch.Index != _nextToPublish || Volatile.Read(ref batch.Remaining) != 0)
                {
                    break;
                }

                Queue(batch);
                _nextToPublish++;
            }

            if (_nextToPublish == Plan.BatchCount)
            {
                Complete();
            }
        }
    }

    /// <summary>One try at one sample: the worker decodes it into its place in the slot.</summary>
    private struct CpuAttempt : ISampleAttempt
    {
        public ISampleWorker Worker;
        public BatchSlot Slot;
        public int Index;
        public int Epoch;
        public int Label;
        public StageTimes Times;

        public void Load(long sampleId) => Label = Worker.Load(sampleId, Epoch, Slot.Sample(Index), ref Times);
    }
}
