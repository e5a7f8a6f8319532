using Loader.Records.Format;
using Loader.Records.Index;

namespace Loader.Records.Tests;

public class RecordDatasetTests
{
    [Fact]
    public void ReadImage_EveryByteOfEveryInputLandsWhereTheIndexSays()
    {
        using var dir = new TempDirectory();
        var images = TestRecords.Write(dir.Path, shards: 3, perShard: 7);
        using var dataset = RecordDataset.Open(dir.Path);

        Assert.Equal(images.Count, dataset.Count);
        Assert.Equal(3, dataset.Classes.Count);
        Assert.Equal(new ClassInfo(1, "n00000001", "class 1"), dataset.Classes[1]);
        byte[] buffer = [];
        for (long id = 0; id < dataset.Count; id++)
        {
            RecordEntry entry = dataset.GetEntry(id);
            EncodedImage image = dataset.ReadImage(id, ref buffer);
            Assert.Equal(images[(int)id].Jpeg, buffer.AsSpan(image.Offset, image.Length).ToArray());
            Assert.Equal(images[(int)id].Label, image.Label);
            Assert.Equal(images[(int)id].Label, entry.Label);
            Assert.Equal((int)(id / 7), entry.Shard);
            Assert.Equal((int)(id % 7), entry.RecordInShard);

            // The index's offset and length point at the record in the file itself.
            byte[] raw = File.ReadAllBytes(dataset.GetShardPath(entry.Shard));
            ReadOnlySpan<byte> payload = raw.AsSpan((int)entry.Offset + TfRecordFraming.HeaderSize, entry.Length);
            Assert.Equal(entry.Crc, Crc32C.Compute(payload));
            Assert.Equal(image.Offset - TfRecordFraming.HeaderSize, payload.IndexOf(images[(int)id].Jpeg));
        }

        Assert.Equal("c1/img0_1.jpg", dataset.GetFileName(1));
    }

    [Fact]
    public void ReadImage_ConcurrentReadsMatchSequentialReads()
    {
        using var dir = new TempDirectory();
        var images = TestRecords.Write(dir.Path, shards: 2, perShard: 20);
        using var dataset = RecordDataset.Open(dir.Path);
        Parallel.For(0, 4, worker =>
        {
            byte[] buffer = [];
            var random = new Random(worker);
            for (int i = 0; i < 200; i++)
            {
                int id = random.Next(images.Count);
                EncodedImage image = dataset.ReadImage(id, ref buffer);
                Assert.Equal(images[id].Jpeg, buffer.AsSpan(image.Offset, image.Length).ToArray());
            }
        });
    }

    [Fact]
    public void ReadImage_AllocatesNothingOnceTheBufferIsLargeEnough()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 2, perShard: 5);
        using var dataset = RecordDataset.Open(dir.Path);
        byte[] buffer = [];
        for (int id = 0; id < dataset.Count; id++)
        {
            dataset.ReadImage(id, ref buffer);
        }

        byte[] grown = buffer;
        // The fewest bytes any pass allocates: one-off runtime work (tiered JIT promoting a hot method) can allocate on
        // this thread once, while an allocation per read shows in every pass.
        long fewest = long.MaxValue;
        for (int pass = 0; pass < 5 && fewest > 0; pass++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int round = 0; round < 20; round++)
            {
                for (int id = 0; id < dataset.Count; id++)
                {
                    dataset.ReadImage(id, ref buffer);
                }
            }

            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
        Assert.Same(grown, buffer);
    }

    [Fact]
    public void ReadImage_BufferTooSmall_IsReplacedByAPooledOne()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 1, perShard: 1);
        using var dataset = RecordDataset.Open(dir.Path);
        byte[] buffer = new byte[4];
        EncodedImage image = dataset.ReadImage(0, ref buffer);
        Assert.True(buffer.Length >= image.Offset + image.Length);
    }

    [Fact]
    public void GetEntry_OutOfRange_Throws()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 1, perShard: 2);
        using var dataset = RecordDataset.Open(dir.Path);
        Assert.Throws<ArgumentOutOfRangeException>(() => dataset.GetEntry(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => dataset.GetEntry(-1));
    }

    [Fact]
    public void ReadImage_FlippedByteInAnyRecord_IsDetectedAndNamed()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 2, perShard: 4);
        RecordEntry[] entries;
        using (var clean = RecordDataset.Open(dir.Path))
        {
            entries = [.. Enumerable.Range(0, (int)clean.Count).Select(i => clean.GetEntry(i))];
        }

        foreach (RecordEntry entry in entries)
        {
            int total = entry.Length + TfRecordFraming.Overhead;
            // A byte of the length, of the length's CRC, of the payload (start, middle, end) and of the footer.
            foreach (int at in new[] { 0, 9, 12, 12 + (entry.Length / 2), 11 + entry.Length, total - 1 })
            {
                string shard = Path.Combine(dir.Path, ShardNaming.ShardFileName("test", entry.Shard, 2));
                byte[] original = File.ReadAllBytes(shard);
                byte[] corrupt = (byte[])original.Clone();
                corrupt[entry.Offset + at] ^= 0x5A;
                File.WriteAllBytes(shard, corrupt);
                try
                {
                    using var dataset = RecordDataset.Open(dir.Path);
                    long id = (entry.Shard * 4L) + entry.RecordInShard;
                    byte[] buffer = [];
                    var e = Assert.Throws<RecordCorruptException>(() => dataset.ReadImage(id, ref buffer));
                    Assert.Equal(shard, e.ShardPath);
                    Assert.Equal(entry.RecordInShard, e.RecordInShard);
                    Assert.Contains($"record {entry.RecordInShard}", e.Message, StringComparison.Ordinal);

                    // The neighbours still read.
                    if (id + 1 < dataset.Count)
                    {
                        dataset.ReadImage(id + 1, ref buffer);
                    }
                }
                finally
                {
                    File.WriteAllBytes(shard, original);
                }
            }
        }
    }

    [Fact]
    public void Open_TruncatedShard_GivesAClearError()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 2, perShard: 3);
        string shard = Path.Combine(dir.Path, ShardNaming.ShardFileName("test", 1, 2));
        byte[] bytes = File.ReadAllBytes(shard);
        File.WriteAllBytes(shard, bytes[..(bytes.Length - 100)]);

        var e = Assert.Throws<RecordFormatException>(() => RecordDataset.Open(dir.Path));
        Assert.Equal(shard, e.FilePath);
        Assert.Equal($"{shard}: truncated: the file has {bytes.Length - 100} bytes, the manifest says {bytes.Length}", e.Message);
    }

    [Fact]
    public void ReadImage_ShardTruncatedAfterOpen_GivesAClearError()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 1, perShard: 3);
        using var dataset = RecordDataset.Open(dir.Path);
        string shard = dataset.GetShardPath(0);
        using (var stream = new FileStream(shard, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            stream.SetLength(dataset.GetEntry(2).Offset + 20);
        }

        byte[] buffer = [];
        var e = Assert.Throws<RecordCorruptException>(() => dataset.ReadImage(2, ref buffer));
        Assert.Equal(2, e.RecordInShard);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_MissingDirectoryOrEmptyFolder_Throws()
    {
        using var dir = new TempDirectory();
        Assert.Throws<DirectoryNotFoundException>(() => RecordDataset.Open(dir.Combine("nope")));
        Assert.Throws<FileNotFoundException>(() => RecordDataset.Open(dir.Path));
    }

    [Fact]
    public void Open_WithoutIndexFiles_BuildsTheIndexOnTheFly()
    {
        using var dir = new TempDirectory();
        var images = TestRecords.Write(dir.Path, shards: 2, perShard: 3);
        foreach (string index in Directory.GetFiles(dir.Path, "*.index"))
        {
            File.Delete(index);
        }

        using var dataset = RecordDataset.Open(dir.Path);
        byte[] buffer = [];
        for (int id = 0; id < images.Count; id++)
        {
            EncodedImage image = dataset.ReadImage(id, ref buffer);
            Assert.Equal(images[id].Jpeg, buffer.AsSpan(image.Offset, image.Length).ToArray());
            Assert.Equal(images[id].Label, image.Label);
            Assert.Equal(24 + (id % 3), dataset.GetEntry(id).Width);
        }
    }
}
