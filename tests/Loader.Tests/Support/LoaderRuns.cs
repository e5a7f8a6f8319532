using Loader.Pipeline.Sources;

namespace Loader.Pipeline.Tests.Support;

/// <summary>What a consumer saw of one batch, copied out before the batch was disposed.</summary>
internal sealed record SeenBatch(int Epoch, long Position, long[] Ids, int[] Labels, byte[] Images, int[] Shape);

internal static class LoaderRuns
{
    public static LoaderOptions Options(int threads = 2, int batch = 8, int rank = 0, int world = 1,
                                        LastBatchPolicy last = LastBatchPolicy.Partial, bool strict = false,
                                        int prefetch = 2, ulong seed = 17, Action<string>? log = null) =>
        new()
        {
            DataDirectory = "(in memory)",
            Threads = threads,
            BatchSize = batch,
            Rank = rank,
            WorldSize = world,
            LastBatch = last,
            Strict = strict,
            PrefetchDepth = prefetch,
            Seed = seed,
            Log = log ?? (_ => { }),
        };

    public static DataLoader Create(LoaderOptions options, ISampleSource source, LoaderState? resumeFrom = null) =>
        DataLoader.Create(options, source, resumeFrom);

    /// <summary>Enumerates the rest of the current epoch, copying and disposing every batch.</summary>
    public static List<SeenBatch> Epoch(DataLoader loader, int? maxBatches = null)
    {
        var seen = new List<SeenBatch>();
        foreach (Batch batch in loader)
        {
            using (batch)
            {
                seen.Add(Copy(batch));
            }

            if (seen.Count == maxBatches)
            {
                break;
            }
        }

        return seen;
    }

    public static SeenBatch Copy(Batch batch) =>
        new(batch.Epoch, batch.Position, batch.SampleIds.ToArray(), batch.Labels.ToArray(), ((HostBatch)batch).Images.ToArray(), batch.Shape);

    public static void AssertSame(IReadOnlyList<SeenBatch> expected, IReadOnlyList<SeenBatch> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int b = 0; b < expected.Count; b++)
        {
            Assert.Equal(expected[b].Epoch, actual[b].Epoch);
            Assert.Equal(expected[b].Position, actual[b].Position);
            Assert.Equal(expected[b].Ids, actual[b].Ids);
            Assert.Equal(expected[b].Labels, actual[b].Labels);
            Assert.Equal(expected[b].Shape, actual[b].Shape);
            Assert.True(expected[b].Images.AsSpan().SequenceEqual(actual[b].Images), $"batch {b}: image bytes differ");
        }
    }
}
