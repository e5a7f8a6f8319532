using Loader.Records.Format;
using Loader.Records.Index;
using Loader.Records.Reading;

namespace Loader.Records.Tests.Reading;

public class ShardStreamReaderTests
{
    [Fact]
    public void Read_StreamsEveryRecordMatchingTheIndex_AcrossPipeSegments()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 1, perShard: 12);
        string shard = Path.Combine(dir.Path, ShardNaming.ShardFileName("test", 0, 1));
        ShardIndex index = ShardIndex.Read(ShardNaming.IndexPathFor(shard));
        // A tiny pipe buffer forces records to straddle segments.
        using var reader = new ShardStreamReader(shard, verifyCrc: true, bufferSize: 256);
        int count = 0;
        while (reader.Read() is { } record)
        {
            Assert.Equal(count, record.RecordInShard);
            Assert.Equal(index.Offsets[count], record.Offset);
            Assert.Equal(index.Lengths[count], record.Payload.Length);
            Assert.Equal(index.Crcs[count], Crc32C.Compute(record.Payload.Span));
            count++;
        }

        Assert.Equal(12, count);
        Assert.Equal(new FileInfo(shard).Length, reader.Position);
    }

    [Fact]
    public void Read_EmptyFile_HasNoRecords()
    {
        using var dir = new TempDirectory();
        string shard = dir.Combine("empty.tfrecord");
        File.WriteAllBytes(shard, []);
        using var reader = new ShardStreamReader(shard);
        Assert.Null(reader.Read());
        Assert.Null(reader.Read());
    }

    [Fact]
    public void Read_TruncatedShard_ThrowsClearError()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 1, perShard: 3);
        string shard = Path.Combine(dir.Path, ShardNaming.ShardFileName("test", 0, 1));
        byte[] bytes = File.ReadAllBytes(shard);
        File.WriteAllBytes(shard, bytes[..^3]);
        using var reader = new ShardStreamReader(shard);
        reader.Read();
        reader.Read();
        var e = Assert.Throws<RecordCorruptException>(() => reader.Read());
        Assert.Equal(2, e.RecordInShard);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_FlippedPayloadByte_ThrowsNamingTheRecord()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 1, perShard: 3);
        string shard = Path.Combine(dir.Path, ShardNaming.ShardFileName("test", 0, 1));
        ShardIndex index = ShardIndex.Read(ShardNaming.IndexPathFor(shard));
        byte[] bytes = File.ReadAllBytes(shard);
        bytes[index.Offsets[1] + 40] ^= 1;
        File.WriteAllBytes(shard, bytes);
        using var reader = new ShardStreamReader(shard);
        reader.Read();
        var e = Assert.Throws<RecordCorruptException>(() => reader.Read());
        Assert.Equal(1, e.RecordInShard);
        Assert.Contains("CRC", e.Message, StringComparison.Ordinal);
    }
}
