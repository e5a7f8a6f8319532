using Loader.Pipeline.Order;

namespace Loader.Pipeline.Tests.Order;

public class EpochPermutationTests
{
    public static TheoryData<long> Sizes => [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 100, 255, 256, 257, 1000, 1281167 / 64, 65537];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Shuffled_IsAPermutation(long count)
    {
        var order = EpochPermutation.Shuffled(count, seed: 42, epoch: 3);
        var seen = new bool[count];
        for (long p = 0; p < count; p++)
        {
            long id = order[p];
            Assert.InRange(id, 0, count - 1);
            Assert.False(seen[id], $"sample {id} appears twice");
            seen[id] = true;
        }
    }

    [Fact]
    public void Shuffled_DependsOnSeedAndEpochOnly()
    {
        long[] a = Take(EpochPermutation.Shuffled(1000, 7, 0));
        Assert.Equal(a, Take(EpochPermutation.Shuffled(1000, 7, 0)));
        Assert.NotEqual(a, Take(EpochPermutation.Shuffled(1000, 7, 1)));
        Assert.NotEqual(a, Take(EpochPermutation.Shuffled(1000, 8, 0)));
        Assert.NotEqual(Enumerable.Range(0, 1000).Select(i => (long)i).ToArray(), a);
    }

    [Fact]
    public void Shuffled_LooksRandom_FewFixedPointsAndNoLongRuns()
    {
        long[] order = Take(EpochPermutation.Shuffled(10_000, 1, 0));
        int fixedPoints = order.Where((id, p) => id == p).Count();
        int ascendingSteps = order.Zip(order.Skip(1)).Count(pair => pair.Second == pair.First + 1);
        Assert.InRange(fixedPoints, 0, 10);    // a random permutation has 1 on average
        Assert.InRange(ascendingSteps, 0, 10); // ... and about 1 step of +1
    }

    [Theory]
    [InlineData(100, 10)]
    [InlineData(103, 10)]
    [InlineData(1000, 64)]
    [InlineData(5, 2)]
    [InlineData(7, 7)]
    [InlineData(7, 50)]
    public void BlockShuffled_IsAPermutation_ThatReadsEachBlockTogether(long count, long blockSize)
    {
        long[] order = Take(EpochPermutation.BlockShuffled(count, blockSize, 3, 1));
        Assert.Equal(Enumerable.Range(0, (int)count).Select(i => (long)i), order.Order());
        for (long p = 0; p < count; p++)
        {
            // Positions of one block of the order all come from one block of records.
            Assert.Equal(order[p / blockSize * blockSize] / blockSize, order[p] / blockSize);
        }
    }

    [Fact]
    public void BlockShuffled_ShufflesBlocksAndRecordsInside_DifferentlyEachEpoch()
    {
        long[] first = Take(EpochPermutation.BlockShuffled(1000, 10, 3, 0));
        long[] second = Take(EpochPermutation.BlockShuffled(1000, 10, 3, 1));
        Assert.NotEqual(first, second);
        Assert.NotEqual(Enumerable.Range(0, 100).Select(b => (long)b), first.Where((_, p) => p % 10 == 0).Select(id => id / 10));
        Assert.NotEqual(Enumerable.Range(0, 10).Select(i => (long)i), first.Take(10).Select(id => id % 10));
    }

    [Fact]
    public void Sequential_IsTheStoredOrder() =>
        Assert.Equal([0, 1, 2, 3, 4], Take(EpochPermutation.Sequential(5)));

    [Fact]
    public void Indexer_OutsideTheEpoch_Throws()
    {
        var order = EpochPermutation.Shuffled(10, 0, 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => order[10]);
        Assert.Throws<ArgumentOutOfRangeException>(() => order[-1]);
    }

    private static long[] Take(EpochPermutation order)
    {
        var ids = new long[order.Count];
        for (long p = 0; p < ids.Length; p++)
        {
            ids[p] = order[p];
        }

        return ids;
    }
}
