using Loader.Records.Index;

namespace Loader.Records.Tests.Index;

public class ShardIndexTests
{
    [Fact]
    public void ToBytes_FromBytes_RoundTrips()
    {
        var index = new ShardIndex("x-00000-of-00001.tfrecord", 123456, [0, 100, 250], [84, 134, 10], [1, 0xFFFFFFFF, 7], [0, 999, 5],
                                   [10, 20, 30], [11, 21, 31]);
        ShardIndex read = ShardIndex.FromBytes(index.ToBytes(), "test");
        Assert.Equal(index.ShardFile, read.ShardFile);
        Assert.Equal(index.ShardBytes, read.ShardBytes);
        Assert.Equal(index.Offsets, read.Offsets);
        Assert.Equal(index.Lengths, read.Lengths);
        Assert.Equal(index.Crcs, read.Crcs);
        Assert.Equal(index.Labels, read.Labels);
        Assert.Equal(index.Widths, read.Widths);
        Assert.Equal(index.Heights, read.Heights);
    }

    [Fact]
    public void ToDaliIndexText_IsOffsetAndFullRecordLengthPerLine()
    {
        var index = new ShardIndex("x", 300, [0, 100], [84, 134], [0, 0], [0, 0], [0, 0], [0, 0]);
        Assert.Equal("0 100\n100 150\n", index.ToDaliIndexText());
        Assert.Equal([(0L, 100L), (100L, 150L)], ShardIndex.ParseDaliIndex(index.ToDaliIndexText(), "x"));
    }

    [Fact]
    public void FromBytes_CorruptFile_ThrowsRecordFormatExceptionNamingIt()
    {
        byte[] bytes = new ShardIndex("x", 1, [0], [1], [1], [1], [1], [1]).ToBytes();
        bytes[^1] ^= 0xFF;
        bytes[^2] ^= 0xFF;
        var e = Assert.ThrowsAny<Exception>(() => ShardIndex.FromBytes(bytes, "bad.index"));
        Assert.True(e is RecordFormatException, e.ToString());
        Assert.StartsWith("bad.index: corrupt shard index", e.Message, StringComparison.Ordinal);
        Assert.Equal("bad.index: not a shard index (bad magic)", Assert.Throws<RecordFormatException>(() => ShardIndex.FromBytes("nope"u8, "bad.index")).Message);
    }
}
