using Loader.Records.Index;
using Loader.Records.Reading;

namespace Loader.Records.Tests.Reading;

public class DatasetVerifierTests
{
    [Fact]
    public void Verify_CleanDirectory_IsOk()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 2, perShard: 4);
        VerificationReport report = DatasetVerifier.Verify(dir.Path);
        Assert.True(report.Ok, string.Join("\n", report.Problems));
        Assert.Equal(8, report.Records);
        Assert.Equal(2, report.Shards);
    }

    [Fact]
    public void Verify_FlippedBytesInTwoRecords_NamesEachBadRecordAndTheHash()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 2, perShard: 4);
        string shard = Path.Combine(dir.Path, ShardNaming.ShardFileName("test", 1, 2));
        ShardIndex index = ShardIndex.Read(ShardNaming.IndexPathFor(shard));
        byte[] bytes = File.ReadAllBytes(shard);
        bytes[index.Offsets[0] + 3] ^= 0x10;   // length field of record 0
        bytes[index.Offsets[3] + 50] ^= 0x01;  // payload of record 3
        File.WriteAllBytes(shard, bytes);

        VerificationReport report = DatasetVerifier.Verify(dir.Path);
        Assert.False(report.Ok);
        Assert.Contains(report.Problems, p => p.ShardPath == shard && p.RecordInShard == 0);
        Assert.Contains(report.Problems, p => p.ShardPath == shard && p.RecordInShard == 3);
        Assert.Contains(report.Problems, p => p.ShardPath == shard && p.RecordInShard == -1 && p.Message.Contains("SHA-256", StringComparison.Ordinal));
        Assert.DoesNotContain(report.Problems, p => p.RecordInShard is 1 or 2);
    }

    [Fact]
    public void Verify_TruncatedShardAndBadDaliIndex_AreReportedNotThrown()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 2, perShard: 3);
        string shard = Path.Combine(dir.Path, ShardNaming.ShardFileName("test", 0, 2));
        File.WriteAllBytes(shard, File.ReadAllBytes(shard)[..^10]);
        string dali = ShardNaming.DaliIndexPathFor(Path.Combine(dir.Path, ShardNaming.ShardFileName("test", 1, 2)));
        File.WriteAllText(dali, "0 12\n");

        VerificationReport report = DatasetVerifier.Verify(dir.Path);
        Assert.Contains(report.Problems, p => p.ShardPath == shard && p.RecordInShard == 2 && p.Message.Contains("truncated", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p.Message.Contains("DALI index", StringComparison.Ordinal));
    }
}
