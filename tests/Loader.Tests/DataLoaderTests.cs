using Loader.Pipeline.Execution;
using Loader.Pipeline.Tests.Support;

namespace Loader.Pipeline.Tests;

/// <summary>The executor over the in-memory source: order, determinism, resumption, errors, shutdown.</summary>
public class DataLoaderTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public void Epoch_DeliversEverySampleExactlyOnce_WithMatchingLabelsAndBytes()
    {
        using var loader = LoaderRuns.Create(LoaderRuns.Options(threads: 3), new PatternSampleSource(203));
        List<SeenBatch> epoch = LoaderRuns.Epoch(loader);

        Assert.Equal(loader.BatchesPerEpoch, epoch.Count);
        Assert.Equal(26, epoch.Count);
        Assert.Equal(3, epoch[^1].Ids.Length); // Partial last batch: 203 = 25 * 8 + 3
        Assert.Equal(Enumerable.Range(0, 203).Select(i => (long)i), epoch.SelectMany(b => b.Ids).Order());
        foreach (SeenBatch batch in epoch)
        {
            Assert.Equal([batch.Ids.Length, 3, 224, 224], batch.Shape);
            for (int i = 0; i < batch.Ids.Length; i++)
            {
                Assert.Equal((int)(batch.Ids[i] % 10), batch.Labels[i]);
                Assert.Equal((batch.Ids[i], 0), PatternSampleSource.Decode(batch.Images.AsSpan(i * 16, 16)));
            }
        }

        Assert.Equal(new LoaderState(17, 1, 0), loader.State);
        Assert.Equal(203, loader.Metrics.Images);
    }

    [Fact]
    public void NextEnumeration_IsTheNextEpoch_InADifferentOrder()
    {
        using var loader = LoaderRuns.Create(LoaderRuns.Options(), new PatternSampleSource(64));
        List<SeenBatch> first = LoaderRuns.Epoch(loader);
        List<SeenBatch> second = LoaderRuns.Epoch(loader);
        Assert.All(second, b => Assert.Equal(1, b.Epoch));
        Assert.NotEqual(first.SelectMany(b => b.Ids), second.SelectMany(b => b.Ids));
        Assert.Equal(first.SelectMany(b => b.Ids).Order(), second.SelectMany(b => b.Ids).Order());
        Assert.Equal(new LoaderState(17, 2, 0), loader.State);
    }

    [Fact]
    public void SameSeed_GivesIdenticalBatches_WhateverTheThreadCount()
    {
        List<SeenBatch>? reference = null;
        foreach (int threads in new[] { 1, 2, 3, 5 })
        {
            using var loader = LoaderRuns.Create(LoaderRuns.Options(threads: threads),
                                                 new PatternSampleSource(150) { BadIds = [3, 77, 78] });
            List<SeenBatch> epochs = [.. LoaderRuns.Epoch(loader), .. LoaderRuns.Epoch(loader)];
            if (reference is null)
            {
                reference = epochs;
            }
            else
            {
                LoaderRuns.AssertSame(reference, epochs);
            }
        }
    }

    [Fact]
    public void EveryRank_SeesItsShareExactlyOnce_AndAllRanksTogetherSeeEverySampleOnce()
    {
        const int World = 3;
        var all = new List<long>();
        int? batches = null;
        for (int rank = 0; rank < World; rank++)
        {
            using var loader = LoaderRuns.Create(LoaderRuns.Options(rank: rank, world: World), new PatternSampleSource(240));
            List<long> mine = LoaderRuns.Epoch(loader).SelectMany(b => b.Ids).ToList();
            Assert.Equal(mine.Count, mine.Distinct().Count());
            Assert.Equal(80, mine.Count);
            batches ??= loader.BatchesPerEpoch;
            Assert.Equal(batches, loader.BatchesPerEpoch);
            all.AddRange(mine);
        }

        Assert.Equal(Enumerable.Range(0, 240).Select(i => (long)i), all.Order());
    }

    [Fact]
    public void Resume_FromAnyBatchBoundary_EqualsTheUninterruptedRun()
    {
        var source = () => new PatternSampleSource(101) { BadIds = [10, 50] };
        using var uninterrupted = LoaderRuns.Create(LoaderRuns.Options(), source());
        List<SeenBatch> expected = LoaderRuns.Epoch(uninterrupted);

        for (int taken = 0; taken < expected.Count; taken++)
        {
            LoaderState saved;
            using (var first = LoaderRuns.Create(LoaderRuns.Options(threads: 3), source()))
            {
                List<SeenBatch> before = LoaderRuns.Epoch(first, maxBatches: taken == 0 ? null : taken);
                if (taken == 0)
                {
                    // A run that took nothing: the state stays at the start of epoch 1 after a full epoch; use epoch 0.
                    saved = new LoaderState(17, 0, 0);
                }
                else
                {
                    LoaderRuns.AssertSame(expected.Take(taken).ToList(), before);
                    saved = first.State;
                }
            }

            using var resumed = LoaderRuns.Create(LoaderRuns.Options(threads: 2), source(), saved);
            LoaderRuns.AssertSame(expected.Skip(taken).ToList(), LoaderRuns.Epoch(resumed));
        }
    }

    [Fact]
    public void Resume_OnAnotherWorldSize_KeepsExactlyOnce()
    {
        const int Count = 240;
        var delivered = new List<long>();
        LoaderState? saved = null;
        for (int rank = 0; rank < 4; rank++)
        {
            using var loader = LoaderRuns.Create(LoaderRuns.Options(rank: rank, world: 4), new PatternSampleSource(Count));
            delivered.AddRange(LoaderRuns.Epoch(loader, maxBatches: 3).SelectMany(b => b.Ids));
            Assert.Equal(saved ?? loader.State, loader.State); // identical on every rank
            saved = loader.State;
        }

        Assert.Equal(new LoaderState(17, 0, 96), saved);
        for (int rank = 0; rank < 3; rank++)
        {
            using var loader = LoaderRuns.Create(LoaderRuns.Options(rank: rank, world: 3), new PatternSampleSource(Count), saved);
            delivered.AddRange(LoaderRuns.Epoch(loader).SelectMany(b => b.Ids));
            Assert.Equal(new LoaderState(17, 1, 0), loader.State);
        }

        Assert.Equal(Enumerable.Range(0, Count).Select(i => (long)i), delivered.Order());
    }

    [Fact]
    public void BadSamples_AreSkippedLoggedOnceCountedAndReplaced_KeepingBatchShapes()
    {
        var log = new List<string>();
        var bad = new HashSet<long> { 0, 1, 2, 40, 99 };
        using var loader = LoaderRuns.Create(LoaderRuns.Options(threads: 3, log: line => { lock (log) { log.Add(line); } }),
                                             new PatternSampleSource(100) { BadIds = bad });
        List<SeenBatch> first = LoaderRuns.Epoch(loader);
        List<SeenBatch> second = LoaderRuns.Epoch(loader);

        foreach (List<SeenBatch> epoch in new[] { first, second })
        {
            Assert.Equal(13, epoch.Count);
            Assert.All(epoch.Take(12), b => Assert.Equal(8, b.Ids.Length));
            Assert.Equal(4, epoch[^1].Ids.Length);
            Assert.All(epoch, b => Assert.Empty(b.Ids.Intersect(bad)));
            Assert.All(epoch, b => Assert.Equal(b.Ids.Length, b.Ids.Distinct().Count())); // no duplicate within a batch
            foreach (SeenBatch batch in epoch)
            {
                for (int i = 0; i < batch.Ids.Length; i++)
                {
                    Assert.Equal(batch.Ids[i], PatternSampleSource.Decode(batch.Images.AsSpan(i * 16, 16)).Id);
                }
            }
        }

        // 5 per epoch, plus any replacement candidate that happened to be bad as well.
        Assert.InRange(loader.Metrics.SkippedSamples, 10, 20);
        Assert.Equal(5, loader.Metrics.BadRecords);
        Assert.Equal(5, log.Count);
        Assert.All(log, line => Assert.Contains("memory record", line));
    }

    [Fact]
    public void Strict_StopsWithTheBadSampleError()
    {
        using var loader = LoaderRuns.Create(LoaderRuns.Options(strict: true), new PatternSampleSource(100) { BadIds = [42] });
        var error = Assert.Throws<BadSampleException>(() => RunWithin(Patience, () => LoaderRuns.Epoch(loader)));
        Assert.Equal(42, error.SampleId);
        Assert.Contains("memory record 42", error.Message);
    }

    [Fact]
    public void AFailingRead_ReachesTheConsumer_WithoutHanging()
    {
        using var loader = LoaderRuns.Create(LoaderRuns.Options(threads: 4), new PatternSampleSource(500) { FatalId = 321 });
        var error = Assert.Throws<IOException>(() => RunWithin(Patience, () => LoaderRuns.Epoch(loader)));
        Assert.Contains("disk on fire", error.Message);
    }

    [Fact]
    public void AllRecordsBad_FailsWithAClearError_InsteadOfLooping()
    {
        using var loader = LoaderRuns.Create(LoaderRuns.Options(),
                                             new PatternSampleSource(20) { BadIds = [.. Enumerable.Range(0, 20).Select(i => (long)i)] });
        var error = Assert.Throws<InvalidDataException>(() => RunWithin(Patience, () => LoaderRuns.Epoch(loader)));
        Assert.Contains("every one of the 20 records of the data set is bad", error.Message);
    }

    [Fact]
    public void DisposingTheLoaderMidEpoch_StopsEveryWorkerThreadPromptly()
    {
        var source = new PatternSampleSource(10_000) { DelayPerSample = TimeSpan.FromMilliseconds(1) };
        var loader = LoaderRuns.Create(LoaderRuns.Options(threads: 4), source);
        IEnumerator<Batch> enumerator = loader.GetEnumerator();
        Assert.True(enumerator.MoveNext());
        enumerator.Current.Dispose();
        Assert.True(enumerator.MoveNext()); // the consumer still holds this one
        IReadOnlyList<Thread> threads = ((CpuDataLoader)loader).CurrentRun!.Threads;
        Assert.Contains(threads, t => t.IsAlive);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        loader.Dispose();
        Assert.All(threads, t => Assert.False(t.IsAlive));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"dispose took {clock.Elapsed}");
        Assert.Equal(4, source.WorkersDisposed);
        // The batch the consumer holds stays valid after the loader is disposed (its slot is freed when it comes back).
        Assert.Equal(16 * 8, ((HostBatch)enumerator.Current).Images.Length);
        enumerator.Current.Dispose();
        Assert.Throws<ObjectDisposedException>(() => ((HostBatch)enumerator.Current).Images.Length);
        enumerator.Current.Dispose(); // a second dispose does nothing
        enumerator.Dispose();
    }

    [Fact]
    public void BreakingOutOfAnEpoch_StopsTheThreads_AndTheNextEnumerationContinuesFromTheState()
    {
        using var reference = LoaderRuns.Create(LoaderRuns.Options(), new PatternSampleSource(80));
        List<SeenBatch> expected = LoaderRuns.Epoch(reference);

        using var loader = LoaderRuns.Create(LoaderRuns.Options(), new PatternSampleSource(80));
        List<SeenBatch> part = LoaderRuns.Epoch(loader, maxBatches: 4);
        Assert.Null(((CpuDataLoader)loader).CurrentRun);
        Assert.Equal(new LoaderState(17, 0, 32), loader.State);
        LoaderRuns.AssertSame(expected, [.. part, .. LoaderRuns.Epoch(loader)]);
    }

    [Fact]
    public void AConsumerHoldingEverySlot_GetsAnError_NotAHang()
    {
        using var loader = LoaderRuns.Create(LoaderRuns.Options(prefetch: 1), new PatternSampleSource(100));
        var held = new List<Batch>();
        var error = Assert.Throws<InvalidOperationException>(() => RunWithin(Patience, () =>
        {
            foreach (Batch batch in loader)
            {
                held.Add(batch); // never disposed
            }
        }));
        Assert.Contains("dispose each Batch", error.Message);
        Assert.Equal(3, held.Count);
    }

    [Fact]
    public async Task AsyncEnumeration_YieldsTheSameBatchesAsSynchronous()
    {
        using var sync = LoaderRuns.Create(LoaderRuns.Options(), new PatternSampleSource(77));
        List<SeenBatch> expected = LoaderRuns.Epoch(sync);

        using var loader = LoaderRuns.Create(LoaderRuns.Options(threads: 3), new PatternSampleSource(77));
        var seen = new List<SeenBatch>();
        await foreach (Batch batch in loader.WithCancellation(TestContext.Current.CancellationToken))
        {
            using (batch)
            {
                seen.Add(LoaderRuns.Copy(batch));
            }
        }

        LoaderRuns.AssertSame(expected, seen);
    }

    [Fact]
    public void Backpressure_WorkersNeverRunMoreThanTheSlotsAhead()
    {
        var source = new PatternSampleSource(1000);
        using var loader = LoaderRuns.Create(LoaderRuns.Options(threads: 2, prefetch: 2), source);
        using IEnumerator<Batch> enumerator = loader.GetEnumerator();
        Assert.True(enumerator.MoveNext());
        Thread.Sleep(200); // plenty of time to run ahead, if nothing stopped the workers
        // 4 slots: the one the consumer holds and 3 more; workers may have claimed one sample of the next batch.
        Assert.InRange(source.Loads.Count, 8, (4 * 8) + 2);
        enumerator.Current.Dispose();
    }

    [Fact]
    public void BlockShuffle_StillDeliversEverySampleOnce_AndResumesExactly()
    {
        LoaderOptions options = LoaderRuns.Options() with { ShuffleBlockSize = 16 };
        using var loader = LoaderRuns.Create(options, new PatternSampleSource(150));
        List<SeenBatch> epoch = LoaderRuns.Epoch(loader);
        Assert.Equal(Enumerable.Range(0, 150).Select(i => (long)i), epoch.SelectMany(b => b.Ids).Order());
        Assert.All(epoch.Take(18), b => Assert.Single(b.Ids.Select(id => id / 16).Distinct())); // batch 8 inside block 16

        using var resumed = LoaderRuns.Create(options, new PatternSampleSource(150), new LoaderState(17, 0, 40));
        LoaderRuns.AssertSame(epoch.Skip(5).ToList(), LoaderRuns.Epoch(resumed));
    }

    [Fact]
    public void Create_RejectsAStateFromAnotherSeed() =>
        Assert.Throws<ArgumentException>(() => LoaderRuns.Create(LoaderRuns.Options(seed: 1), new PatternSampleSource(10),
                                                                  new LoaderState(2, 0, 0)));

    [Fact]
    public void TwoEnumerationsAtOnce_AreRejected()
    {
        using var loader = LoaderRuns.Create(LoaderRuns.Options(), new PatternSampleSource(100));
        using IEnumerator<Batch> first = loader.GetEnumerator();
        Assert.Throws<InvalidOperationException>(() => loader.GetEnumerator());
    }

    private static void RunWithin(TimeSpan limit, Action action)
    {
        var task = Task.Run(action);
        if (Task.WhenAny(task, Task.Delay(limit, TestContext.Current.CancellationToken)).GetAwaiter().GetResult() != task)
        {
            Assert.Fail($"no result after {limit}: the pipeline hangs");
        }

        task.GetAwaiter().GetResult();
    }
}
