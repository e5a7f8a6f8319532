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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Complete_WritesTfRecordFramingAndTheShardsSha256(bool pipelined)
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("s-00000-of-00001.tfrecord");
        List<byte[]> payloads = Payloads();
        ManifestShard shard;
        using (var writer = new ShardWriter(path, pipelined))
        {
            for (int i = 0; i < payloads.Count; i++)
            {
                Assert.Equal(i, writer.Append(payloads[i], label: i, width: 10 + i, height: 20 + i));
            }

            shard = writer.Complete();
        }

        // The expected bytes, framed here from the spec, not by the writer.
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

        byte[] written = File.ReadAllBytes(path);
        Assert.Equal(expected.ToArray(), written);
        Assert.False(File.Exists(path + ".tmp"));
        Assert.Equal(payloads.Count, shard.Records);
        Assert.Equal(written.Length, shard.Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(written)), shard.Sha256);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Dispose_WithoutComplete_LeavesNoShard(bool pipelined)
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("s-00000-of-00001.tfrecord");
        using (var writer = new ShardWriter(path, pipelined))
        {
            foreach (byte[] payload in Payloads())
            {
                writer.Append(payload, 0, 1, 1);
            }
        }

        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
