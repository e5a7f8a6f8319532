using Loader.Pipeline.Order;

namespace Loader.Pipeline.Tests.Order;

public class EpochPlanTests
{
    private static readonly LastBatchPolicy[] Policies = [LastBatchPolicy.Drop, LastBatchPolicy.Partial, LastBatchPolicy.Fill];

    [Fact]
    public void EveryRank_GetsTheSameBatchCountAndBatchSizes()
    {
        foreach (var (count, world, batch, policy) in Grid())
        {
            EpochPlan[] ranks = Ranks(count, world, batch, policy);
            foreach (EpochPlan rank in ranks)
            {
                Assert.Equal(ranks[0].BatchCount, rank.BatchCount);
                for (int b = 0; b < rank.BatchCount; b++)
                {
                    Assert.Equal(ranks[0].BatchLength(b), rank.BatchLength(b));
                    Assert.InRange(rank.BatchLength(b), 1, batch);
                }
            }
        }
    }

    [Fact]
    public void Partial_DeliversEverySampleExactlyOnceOverAllRanks_WhenTheWorldSizeDividesTheCount()
    {
        foreach (var (count, world, batch, _) in Grid())
        {
            if (count % world == 0)
            {
                AssertExactlyOnce(Deliveries(Ranks(count, world, batch, LastBatchPolicy.Partial)), count);
            }
        }
    }

    [Fact]
    public void Partial_OtherwisePadsShortRanksWithFewerThanWorldSizeRepeats()
    {
        foreach (var (count, world, batch, _) in Grid())
        {
            List<long> all = Deliveries(Ranks(count, world, batch, LastBatchPolicy.Partial));
            Assert.Equal(count, all.Distinct().LongCount());
            Assert.InRange(all.Count - count, 0, world - 1);
        }
    }

    [Fact]
    public void EachRank_NeverRepeatsASampleWithinAnEpoch()
    {
        foreach (var (count, world, batch, policy) in Grid())
        {
            if (policy == LastBatchPolicy.Fill || count < world)
            {
                continue; // Fill repeats by design; a rank with more slots than samples must too
            }

            foreach (EpochPlan rank in Ranks(count, world, batch, policy))
            {
                List<long> mine = Deliveries([rank]);
                Assert.Equal(mine.Count, mine.Distinct().Count());
            }
        }
    }

    [Fact]
    public void Drop_DeliversOnlyFullBatches_EachSampleAtMostOnce_AndDropsLessThanOneRoundOfBatches()
    {
        foreach (var (count, world, batch, _) in Grid())
        {
            EpochPlan[] ranks = Ranks(count, world, batch, LastBatchPolicy.Drop);
            List<long> all = Deliveries(ranks);
            Assert.Equal(all.Count, all.Distinct().Count());
            Assert.All(Enumerable.Range(0, ranks[0].BatchCount), b => Assert.Equal(batch, ranks[0].BatchLength(b)));
            Assert.InRange(count - all.Count, 0, ((long)batch * world) + world - 1);
        }
    }

    [Fact]
    public void Fill_DeliversOnlyFullBatches_CoveringEverySample()
    {
        foreach (var (count, world, batch, _) in Grid())
        {
            EpochPlan[] ranks = Ranks(count, world, batch, LastBatchPolicy.Fill);
            Assert.Equal(count, Deliveries(ranks).Distinct().LongCount());
            Assert.All(Enumerable.Range(0, ranks[0].BatchCount), b => Assert.Equal(batch, ranks[0].BatchLength(b)));
        }
    }

    [Fact]
    public void GlobalOrder_DoesNotDependOnTheWorldSize()
    {
        var order = EpochPermutation.Shuffled(96, 5, 2);
        long[] single = Deliveries(Ranks(order, 1, 8, LastBatchPolicy.Partial)).ToArray();
        foreach (int world in new[] { 2, 3, 4, 6 })
        {
            EpochPlan[] ranks = Ranks(order, world, 8, LastBatchPolicy.Partial);
            var interleaved = new List<long>();
            for (int b = 0; b < ranks[0].BatchCount; b++)
            {
                for (int i = 0; i < ranks[0].BatchLength(b); i++)
                {
                    interleaved.AddRange(ranks.Select(rank => rank.SampleId(b, i)));
                }
            }

            Assert.Equal(single, interleaved);
        }
    }

    [Theory]
    [InlineData(LastBatchPolicy.Partial, 4, 3)]
    [InlineData(LastBatchPolicy.Partial, 3, 4)]
    [InlineData(LastBatchPolicy.Partial, 2, 5)]
    [InlineData(LastBatchPolicy.Drop, 4, 3)]
    [InlineData(LastBatchPolicy.Fill, 4, 3)]
    public void Resume_OnAnotherWorldSize_CoversTheRestOfTheEpochExactlyOnce(LastBatchPolicy policy, int before, int after)
    {
        const long Count = 1000;
        const int Batch = 8;
        var order = EpochPermutation.Shuffled(Count, 11, 0);
        for (int taken = 0; taken <= 4; taken++)
        {
            // Every rank of the old world takes `taken` batches; the state they save is the same on all of them.
            EpochPlan[] old = Ranks(order, before, Batch, policy);
            var delivered = new List<long>();
            LoaderState? state = null;
            foreach (EpochPlan rank in old)
            {
                for (int b = 0; b < taken; b++)
                {
                    delivered.AddRange(Enumerable.Range(0, rank.BatchLength(b)).Select(i => rank.SampleId(b, i)));
                }

                LoaderState mine = taken == 0 ? new LoaderState(11, 0, 0) : rank.StateAfter(taken - 1, 11);
                Assert.Equal(state ?? mine, mine);
                state = mine;
            }

            EpochPlan[] resumed = Enumerable.Range(0, after)
                .Select(r => new EpochPlan(order, 0, state!.Value.Position, r, after, Batch, policy)).ToArray();
            delivered.AddRange(Deliveries(resumed));

            var distinct = delivered.Distinct().ToList();
            if (policy == LastBatchPolicy.Drop)
            {
                Assert.Equal(delivered.Count, distinct.Count); // at most once
            }
            else
            {
                Assert.Equal(Count, distinct.Count); // at least once ...
                long remaining = Count - state!.Value.Position;
                if (policy == LastBatchPolicy.Partial)
                {
                    Assert.InRange(delivered.Count - Count, 0, (-remaining % after + after) % after); // ... padded only as needed
                    if (remaining % after == 0)
                    {
                        Assert.Equal(Count, delivered.Count); // exactly once
                    }
                }
            }
        }
    }

    [Fact]
    public void Resume_AtABatchBoundary_YieldsTheRemainingBatchesOfTheUninterruptedPlan()
    {
        var order = EpochPermutation.Shuffled(203, 3, 1);
        foreach (LastBatchPolicy policy in Policies)
        {
            var full = new EpochPlan(order, 1, 0, 1, 3, 10, policy);
            for (int taken = 0; taken < full.BatchCount; taken++)
            {
                long position = taken == 0 ? 0 : full.StateAfter(taken - 1, 3).Position;
                var resumed = new EpochPlan(order, 1, position, 1, 3, 10, policy);
                Assert.Equal(full.BatchCount - taken, resumed.BatchCount);
                for (int b = 0; b < resumed.BatchCount; b++)
                {
                    Assert.Equal(full.BatchLength(b + taken), resumed.BatchLength(b));
                    Assert.Equal(full.BatchStartPosition(b + taken), resumed.BatchStartPosition(b));
                    for (int i = 0; i < resumed.BatchLength(b); i++)
                    {
                        Assert.Equal(full.SampleId(b + taken, i), resumed.SampleId(b, i));
                    }
                }
            }

            Assert.Equal(new LoaderState(3, 2, 0), full.StateAfter(full.BatchCount - 1, 3));
        }
    }

    [Fact]
    public void ReplacementPositions_OfDistinctSlots_NeverCollideWithEachOtherOrTheBatch()
    {
        var plan = new EpochPlan(EpochPermutation.Shuffled(10_000, 1, 0), 0, 0, 2, 4, 16, LastBatchPolicy.Partial);
        var batchPositions = Enumerable.Range(0, 16).Select(i => plan.GlobalPosition(3, i)).ToHashSet();
        var candidates = new HashSet<long>();
        for (int i = 0; i < 16; i++)
        {
            for (int attempt = 1; attempt <= 5; attempt++)
            {
                long position = plan.ReplacementPosition(3, i, attempt);
                Assert.DoesNotContain(position, batchPositions);
                Assert.True(candidates.Add(position));
                Assert.Equal(2, position % 4); // still this rank's position
            }
        }
    }

    private static IEnumerable<(long Count, int World, int Batch, LastBatchPolicy Policy)> Grid()
    {
        foreach (long count in new long[] { 1, 2, 5, 7, 16, 17, 31, 64, 100, 101 })
        {
            foreach (int world in new[] { 1, 2, 3, 4, 7 })
            {
                foreach (int batch in new[] { 1, 2, 3, 8, 32 })
                {
                    foreach (LastBatchPolicy policy in Policies)
                    {
                        if (policy == LastBatchPolicy.Drop && count / world < batch)
                        {
                            continue; // no full batch at all: nothing to deliver
                        }

                        yield return (count, world, batch, policy);
                    }
                }
            }
        }
    }

    private static EpochPlan[] Ranks(long count, int world, int batch, LastBatchPolicy policy) =>
        Ranks(EpochPermutation.Shuffled(count, 99, 0), world, batch, policy);

    private static EpochPlan[] Ranks(EpochPermutation order, int world, int batch, LastBatchPolicy policy) =>
        Enumerable.Range(0, world).Select(r => new EpochPlan(order, 0, 0, r, world, batch, policy)).ToArray();

    private static List<long> Deliveries(IEnumerable<EpochPlan> ranks)
    {
        var all = new List<long>();
        foreach (EpochPlan rank in ranks)
        {
            for (int b = 0; b < rank.BatchCount; b++)
            {
                for (int i = 0; i < rank.BatchLength(b); i++)
                {
                    all.Add(rank.SampleId(b, i));
                }
            }
        }

        return all;
    }

    private static void AssertExactlyOnce(List<long> delivered, long count)
    {
        Assert.Equal(count, delivered.Count);
        Assert.Equal(count, delivered.Distinct().LongCount());
    }
}
