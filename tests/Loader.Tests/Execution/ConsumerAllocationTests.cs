using Loader.Pipeline.Tests.Support;

namespace Loader.Pipeline.Tests.Execution;

/// <summary>Runs alone: it counts every allocation of the process (async continuations hop threads).</summary>
[CollectionDefinition(nameof(ConsumerAllocationTests), DisableParallelization = true)]
public sealed class ConsumerAllocationCollection;

/// <summary>
/// The consumer's side allocates nothing per batch (batch objects belong to their slots; waiting for a batch,
/// taking it and disposing it allocate nothing), sync or async: an epoch of 4,000 batches, in which the consumer
/// waits for many of them, costs a few kilobytes (the epoch's run: its threads, channel and enumerator), where one
/// small allocation per batch would cost over 90 KB. The fewest bytes of five epochs count (tiered JIT may allocate
/// once).
/// </summary>
[Collection(nameof(ConsumerAllocationTests))]
public sealed class ConsumerAllocationTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheConsumer_AllocatesNothingPerBatch(bool asynchronous)
    {
        var source = new PatternSampleSource(40_000) { RecordLoads = false };
        using DataLoader loader = LoaderRuns.Create(LoaderRuns.Options(threads: 2, batch: 10) with { ReadAheadSamples = 0 }, source);
        long fewest = long.MaxValue;
        for (int pass = 0; pass < 6; pass++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            int batches = 0;
            if (asynchronous)
            {
                await foreach (Batch batch in loader.ConfigureAwait(false))
                {
                    batch.Dispose();
                    batches++;
                }
            }
            else
            {
                foreach (Batch batch in loader)
                {
                    batch.Dispose();
                    batches++;
                }
            }

            long bytes = GC.GetTotalAllocatedBytes(precise: true) - before;
            Assert.Equal(4_000, batches);
            if (pass > 0)
            {
                fewest = Math.Min(fewest, bytes);
            }
        }

        Assert.InRange(fewest, 0, 16_000);
    }
}
