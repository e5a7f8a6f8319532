using Loader.Pipeline.Tests.Support;

namespace Loader.Pipeline.Tests.Execution;

public class HotPathAllocationTests
{
    /// <summary>
    /// The executor allocates per batch (a small Batch object) and per epoch (threads, channel), never per sample:
    /// an epoch of 100x more samples in the same number of batches costs no more managed memory.
    /// </summary>
    [Fact]
    public void ManagedAllocations_DoNotGrowWithSamplesPerBatch()
    {
        long small = AllocatedForOneEpoch(batchSize: 8);
        long large = AllocatedForOneEpoch(batchSize: 800);
        // 100 000 more samples: a single 8-byte allocation per sample would add 800 KB.
        Assert.True(large - small < 64 * 1024, $"{small} bytes for 1 000 samples, {large} bytes for 100 000 samples");
    }

    private static long AllocatedForOneEpoch(int batchSize)
    {
        var source = new PatternSampleSource(batchSize * 125L) { RecordLoads = false };
        using DataLoader loader = LoaderRuns.Create(LoaderRuns.Options(threads: 2, batch: batchSize), source);
        Consume(loader); // warm-up: JIT, pools, first-use allocations
        long before = GC.GetTotalAllocatedBytes(precise: true);
        Consume(loader);
        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }

    private static void Consume(DataLoader loader)
    {
        foreach (Batch batch in loader)
        {
            batch.Dispose();
        }
    }
}
