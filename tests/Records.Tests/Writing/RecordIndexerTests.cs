using Loader.Records.Index;
using Loader.Records.Writing;

namespace Loader.Records.Tests.Writing;

/// <summary>make-records index scans shards in parallel: the result may not depend on the thread count, the first bad
/// shard (by name) is the one reported whatever finishes first, and the progress counts every byte once.</summary>
public class RecordIndexerTests
{
    private static string[] WriteForeignSet(TempDirectory dir, int shards)
    {
        string[] paths = new string[shards];
        for (int s = 0; s < shards; s++)
        {
            paths[s] = TestRecords.WriteShard(dir.Path, ShardNaming.ShardFileName("train", s, shards),
                [.. Enumerable.Range(0, 3 + s).Select(r => (TestImages.Jpeg(10 + r, 8 + s, seed: (s * 10) + r), r % 3))]);
        }

        return paths;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(16)]
    public void Run_AnyThreadCount_WritesWhatOneThreadWrites(int threads)
    {
        using var one = new TempDirectory();
        using var many = new TempDirectory();
        string[] onePaths = WriteForeignSet(one, shards: 7);
        string[] manyPaths = WriteForeignSet(many, shards: 7);
        DatasetManifest sequential = new RecordIndexer(1).Run(one.Path, name: "set");
        DatasetManifest parallel = new RecordIndexer(threads).Run(many.Path, name: "set");

        Assert.Equal(File.ReadAllText(one.Combine(ShardNaming.ManifestFileName)), File.ReadAllText(many.Combine(ShardNaming.ManifestFileName)));
        Assert.Equal(sequential.RecordCount, parallel.RecordCount);
        for (int s = 0; s < onePaths.Length; s++)
        {
            Assert.Equal(File.ReadAllBytes(ShardNaming.IndexPathFor(onePaths[s])), File.ReadAllBytes(ShardNaming.IndexPathFor(manyPaths[s])));
            Assert.Equal(File.ReadAllText(ShardNaming.DaliIndexPathFor(onePaths[s])), File.ReadAllText(ShardNaming.DaliIndexPathFor(manyPaths[s])));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(8)]
    public void Run_TwoCorruptShards_ReportsTheFirstByName(int threads)
    {
        using var dir = new TempDirectory();
        string[] paths = WriteForeignSet(dir, shards: 6);
        foreach (int s in new[] { 4, 2 })
        {
            byte[] bytes = File.ReadAllBytes(paths[s]);
            bytes[^1] ^= 0x10; // the last record's payload CRC
            File.WriteAllBytes(paths[s], bytes);
        }

        var e = Assert.Throws<RecordCorruptException>(() => new RecordIndexer(threads).Run(dir.Path));
        Assert.StartsWith(paths[2], e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.Combine(ShardNaming.ManifestFileName)));
    }

    [Fact]
    public void Run_Progress_EndsWithEveryShardByteCountedOnce()
    {
        using var dir = new TempDirectory();
        string[] paths = WriteForeignSet(dir, shards: 5);
        var indexer = new RecordIndexer(3);
        indexer.Run(dir.Path);
        long bytes = paths.Sum(p => new FileInfo(p).Length);
        Assert.Equal(bytes, indexer.TotalBytes);
        Assert.Equal(bytes, indexer.BytesDone);
    }
}
