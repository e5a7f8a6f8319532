using Loader.Records.Format;
using Loader.Records.Writing;

namespace Loader.Records.Tests.Reading;

/// <summary>Shard files are opened on first use and capped, so any shard count works under a low descriptor limit.</summary>
public sealed class ShardHandleCacheTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("handle-cache-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>
    /// 1024 shards (TensorFlow's ImageNet training layout), read in random order from two threads with at most 64
    /// open: every record reads back, and no more than 64 of the shard files are open once the reads are done, 65
    /// while they run (counted in /proc/self/fd, what <c>ulimit -n</c> limits): a handle evicted while the other
    /// thread reads with it closes when that read ends. Before, the reader opened all 1024 at once.
    /// </summary>
    [Fact]
    public void ThousandShards_ReadWithAtMostTheCapOpen()
    {
        const int Shards = 1024, Cap = 64;
        for (int s = 0; s < Shards; s++)
        {
            using var writer = new ShardWriter(Path.Combine(_directory, $"train-{s:D5}-of-{Shards:D5}"));
            byte[] payload = new ImageExample(new byte[] { 0xFF, 0xD8, 0xFF, (byte)s }, s % 10, "n0", "c", $"{s}.jpg", 1, 1, 3).ToPayload();
            writer.Append(payload, s % 10, 1, 1);
            writer.Complete();
        }

        using RecordDataset dataset = RecordDataset.Open(_directory, new RecordReadOptions(MaxOpenShards: Cap));
        Assert.Equal(Shards, dataset.Count);
        Assert.Equal(0, dataset.OpenShardFiles); // nothing opened before the first read

        long[] order = [.. Enumerable.Range(0, Shards).Select(i => (long)i).OrderBy(i => (i * 7919) % Shards)];
        int maxSeen = 0;
        Parallel.For(0, 2, lane =>
        {
            byte[] buffer = new byte[64];
            for (int i = lane; i < order.Length; i += 2)
            {
                EncodedImage image = dataset.ReadImage(order[i], ref buffer);
                Assert.Equal((byte)order[i], buffer[image.Offset + 3]);
                if (i % 64 == lane)
                {
                    int open = OpenFilesUnder(_directory);
                    lock (order)
                    {
                        maxSeen = Math.Max(maxSeen, open);
                    }
                }
            }
        });

        Assert.InRange(dataset.OpenShardFiles, 1, Cap);
        Assert.InRange(OpenFilesUnder(_directory), 1, Cap);
        Assert.InRange(maxSeen, 1, Cap + 1); // one evicted handle may still be in use by the other lane
    }

    private static int OpenFilesUnder(string directory)
    {
        int count = 0;
        foreach (string fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith(directory, StringComparison.Ordinal))
                {
                    count++;
                }
            }
            catch (IOException)
            {
                // The descriptor closed while we looked.
            }
        }

        return count;
    }
}
