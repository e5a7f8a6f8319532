using Loader.Pipeline.Tests.Support;

namespace Loader.Pipeline.Tests.Execution;

public class HotPathAllocationTests
{
    /// <summary>
    /// The worker threads (read, decode, place the sample, publish) allocate nothing per sample: a whole epoch of
    /// 100 000 samples costs them less than one allocation per thousand samples. Measured per worker thread, so
    /// tests running in parallel do not disturb it.
    /// </summary>
    [Fact]
    public void WorkerThreads_AllocateNothingPerSample()
    {
        var source = new PatternSampleSource(100_000) { RecordLoads = false };
        using DataLoader loader = LoaderRuns.Create(LoaderRuns.Options(threads: 2, batch: 500), source);
        Consume(loader); // warm-up: JIT and first-use allocations
        loader.Metrics.Reset();
        Consume(loader);
        Assert.Equal(100_000, loader.Metrics.Images);
        Assert.InRange(loader.Metrics.WorkerAllocatedBytes, 0, 2_000);
    }

    [Fact]
    public void TheMeasurement_SeesAllocationsInTheSource()
    {
        var source = new PatternSampleSource(10_000) { RecordLoads = true }; // the source allocates per sample
        using DataLoader loader = LoaderRuns.Create(LoaderRuns.Options(threads: 2, batch: 500), source);
        Consume(loader);
        Assert.True(loader.Metrics.WorkerAllocatedBytes > 10_000 * 8, $"{loader.Metrics.WorkerAllocatedBytes} bytes");
    }

    private static void Consume(DataLoader loader)
    {
        foreach (Batch batch in loader)
        {
            batch.Dispose();
        }
    }
}
