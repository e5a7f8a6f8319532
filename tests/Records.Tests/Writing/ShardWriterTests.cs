using System.Security.Cryptography;
using Loader.Records.Format;
using Loader.Records.Index;
using Loader.Records.Writing;

namespace Loader.Records.Tests.Writing;

public class ShardWriterTests
{
    /// <summary>Payloads from empty to several blocks long, so records straddle the 1 MiB write blocks.</summary>
    private static List<byte[]> Payloads()
    {
        var random = new Random(21);
        var payloads = new List<byte[]>();
        foreach (int length in new[] { 0, 1, 100_000, (1 << 20) - 20, 5, 3 << 20, 777_777, 12, (1 << 20) + 3, 250_000 })
        {
            byte[] payload = new byte[length];
            random.NextBytes(payload);
            payloads.Add(payload);
        }

        return payloads;
    }

    /// <summary>The expected shard bytes, framed here from the spec, not by the writer.</summary>
    private static byte[] ExpectedShard(List<byte[]> payloads)
    {
        using var expected = new MemoryStream();
        byte[] header = new byte[TfRecordFraming.HeaderSize];
        foreach (byte[] payload in payloads)
        {
            TfRecordFraming.WriteHeader(header, payload.Length);
            expected.Write(header);
            expected.Write(payload);
            TfRecordFraming.WriteFooter(header, Crc32C.ComputeScalar(payload));
            expected.Write(header, 0, TfRecordFraming.FooterSize);
        }

        return expected.ToArray();
    }

    /// <summary>A payload framed the way make-records' workers do it: serialized into place, then framed in place.</summary>
    private static FramedRecord Framed(byte[] payload, int label)
    {
        byte[] buffer = new byte[payload.Length + TfRecordFraming.Overhead + 7]; // longer than the record, as pooled buffers are
        payload.CopyTo(buffer, TfRecordFraming.HeaderSize);
        int length = payload.Length + TfRecordFraming.Overhead;
        uint crc = TfRecordFraming.FrameInPlace(buffer.AsSpan(0, length));
        Assert.Equal(Crc32C.ComputeScalar(payload), crc);
        return new FramedRecord(buffer.AsMemory(0, length), crc, label, 10 + label, 20 + label);
    }

    [Fact]
    public void Complete_WritesTfRecordFramingAndTheShardsSha256()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("s-00000-of-00001.tfrecord");
        List<byte[]> payloads = Payloads();
        ManifestShard shard;
        using (var writer = new ShardWriter(path))
        {
            for (int i = 0; i < payloads.Count; i++)
            {
                Assert.Equal(i, writer.Append(payloads[i], label: i, width: 10 + i, height: 20 + i));
            }

            shard = writer.Complete();
        }

        byte[] written = File.ReadAllBytes(path);
        Assert.Equal(ExpectedShard(payloads), written);
        Assert.False(File.Exists(path + ".tmp"));
        Assert.Equal(payloads.Count, shard.Records);
        Assert.Equal(written.Length, shard.Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(written)), shard.Sha256);
    }

    /// <summary>Framed batches (the fast path) and single payloads (the simple path), mixed: the file is the records
    /// in call order, the index and the hash agree with it.</summary>
    [Fact]
    public void AppendFramed_MixedWithAppend_KeepsCallOrder()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("s-00000-of-00001.tfrecord");
        List<byte[]> payloads = Payloads();
        ManifestShard shard;
        using (var writer = new ShardWriter(path))
        {
            Assert.Equal(0, writer.Append(payloads[0], 0, 10, 20));
            Assert.Equal(1, writer.Append(payloads[1], 1, 11, 21));
            Assert.Equal(2, writer.AppendFramed([Framed(payloads[2], 2), Framed(payloads[3], 3), Framed(payloads[4], 4)]));
            Assert.Equal(5, writer.AppendFramed([]));
            Assert.Equal(5, writer.Append(payloads[5], 5, 15, 25));
            Assert.Equal(6, writer.AppendFramed([.. payloads.Skip(6).Select((p, i) => Framed(p, 6 + i))]));
            shard = writer.Complete();
        }

        byte[] written = File.ReadAllBytes(path);
        Assert.Equal(ExpectedShard(payloads), written);
        Assert.Equal(payloads.Count, shard.Records);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(written)), shard.Sha256);

        ShardIndex index = ShardIndex.Read(ShardNaming.IndexPathFor(path));
        long offset = 0;
        for (int i = 0; i < payloads.Count; i++)
        {
            Assert.Equal(offset, index.Offsets[i]);
            Assert.Equal(payloads[i].Length, index.Lengths[i]);
            Assert.Equal(Crc32C.ComputeScalar(payloads[i]), index.Crcs[i]);
            Assert.Equal(i, index.Labels[i]);
            Assert.Equal(10 + i, index.Widths[i]);
            offset += payloads[i].Length + TfRecordFraming.Overhead;
        }
    }

    /// <summary>More records in one call than one gather write takes (IOV_MAX is 1024 on Linux).</summary>
    [Fact]
    public void AppendFramed_ManyRecordsInOneCall_AllLand()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("s-00000-of-00001.tfrecord");
        List<byte[]> payloads = [.. Enumerable.Range(0, 3000).Select(i => new[] { (byte)i, (byte)(i >> 8), (byte)7 })];
        using (var writer = new ShardWriter(path))
        {
            Assert.Equal(0, writer.AppendFramed([.. payloads.Select((p, i) => Framed(p, i % 50))]));
            Assert.Equal(3000, writer.Complete().Records);
        }

        Assert.Equal(ExpectedShard(payloads), File.ReadAllBytes(path));
    }

    [Fact]
    public void AppendFramed_ShorterThanTheFraming_Throws()
    {
        using var dir = new TempDirectory();
        using var writer = new ShardWriter(dir.Combine("s-00000-of-00001.tfrecord"));
        var bad = new FramedRecord(new byte[TfRecordFraming.Overhead - 1], 0, 0, 1, 1);
        Assert.Throws<ArgumentException>(() => writer.AppendFramed([bad]));
    }

    [Fact]
    public void Dispose_WithoutComplete_LeavesNoShard()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("s-00000-of-00001.tfrecord");
        using (var writer = new ShardWriter(path))
        {
            foreach (byte[] payload in Payloads())
            {
                writer.Append(payload, 0, 1, 1);
            }

            writer.AppendFramed([Framed([1, 2, 3], 0)]);
        }

        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
