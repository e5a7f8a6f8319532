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
    public void Verify_WithoutSha256_SkipsOnlyTheManifestHash_RecordDamageIsStillFound()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 2, perShard: 4);
        string manifestPath = dir.Combine(ShardNaming.ManifestFileName);
        DatasetManifest manifest = DatasetManifest.Read(manifestPath);
        string wrong = new('0', 64);
        File.WriteAllText(manifestPath, File.ReadAllText(manifestPath).Replace(manifest.Shards[0].Sha256, wrong, StringComparison.Ordinal));

        // Every record is sound, only the manifest's hash of shard 0 is wrong: by default that is the one problem.
        VerificationReport checkedHash = DatasetVerifier.Verify(dir.Path);
        VerificationProblem only = Assert.Single(checkedHash.Problems);
        Assert.Contains("SHA-256", only.Message, StringComparison.Ordinal);
        Assert.True(DatasetVerifier.Verify(dir.Path, new VerifyOptions(Sha256: false)).Ok);

        // A damaged payload byte in shard 1 is still found, record by record, without the hash.
        string shard = Shard(dir, 1);
        ShardIndex index = ShardIndex.Read(ShardNaming.IndexPathFor(shard));
        byte[] bytes = File.ReadAllBytes(shard);
        bytes[index.Offsets[2] + 50] ^= 0x01;
        File.WriteAllBytes(shard, bytes);
        VerificationReport report = DatasetVerifier.Verify(dir.Path, new VerifyOptions(Sha256: false));
        VerificationProblem damaged = Assert.Single(report.Problems);
        Assert.Equal((shard, 2), (damaged.ShardPath, damaged.RecordInShard));
        Assert.Contains("CRC-32C", damaged.Message, StringComparison.Ordinal);
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

    private static string Shard(TempDirectory dir, int shard, int of = 2) => dir.Combine(ShardNaming.ShardFileName("test", shard, of));

    private static string[] Lines(VerificationReport report) => [.. report.Problems.Select(p => p.ToString())];

    [Theory]
    [InlineData("negative length", "length: -5: must be positive")]
    [InlineData("huge length", "length: the record at offset")]
    [InlineData("swapped offsets", "offset: ")]
    public void Verify_IndexThatLies_IsAReportLine_AndTheRecordsAreStillCheckedByTheFraming(string attack, string line)
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 2, perShard: 4);
        string shard = Shard(dir, 1);
        TestRecords.RewriteIndex(shard, index =>
        {
            switch (attack)
            {
                case "negative length": index.Lengths[1] = -5; break;
                case "huge length": index.Lengths[1] = int.MaxValue; break;
                default: (index.Offsets[1], index.Offsets[2]) = (index.Offsets[2], index.Offsets[1]); break;
            }
        });

        VerificationReport report = DatasetVerifier.Verify(dir.Path);
        string index = ShardNaming.IndexPathFor(shard);
        Assert.Equal(8, report.Records);
        Assert.Single(report.Problems);
        Assert.StartsWith(index + ", record ", report.Problems[0].ToString(), StringComparison.Ordinal);
        Assert.Contains(line, report.Problems[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_IndexLabelDiffersFromTheRecordsOwn_IsReported()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 2, perShard: 4); // labels (s*4+r) % 3: shard 0 record 1 has label 1
        TestRecords.RewriteIndex(Shard(dir, 0), index => index.Labels[1] = 2);
        VerificationReport report = DatasetVerifier.Verify(dir.Path);
        Assert.Contains($"{Shard(dir, 0)}, record 1: label 1 in the record, 2 in the index (0-based)", Lines(report));
    }

    [Fact]
    public void Verify_JpegHeaderOverMaxPixels_IsReported()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 1, perShard: 2); // images 24x16 and 25x16
        VerificationReport report = DatasetVerifier.Verify(dir.Path, new VerifyOptions(MaxPixels: 390));
        Assert.Equal([$"{Shard(dir, 0, 1)}, record 1: image/encoded: the JPEG header claims 25x16 = 400 pixels, more than --max-pixels 390"], Lines(report));
    }

    [Fact]
    public void Verify_MissingShard_IsAProblem_OrWithAllowPartialAWarningWhileTheRestIsChecked()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 3, perShard: 4);
        string missing = Shard(dir, 1, 3);
        File.Delete(missing);
        VerificationReport strict = DatasetVerifier.Verify(dir.Path);
        Assert.False(strict.Ok);
        Assert.Contains($"{missing}: missing: listed in the manifest but not on disk", Lines(strict));

        VerificationReport partial = DatasetVerifier.Verify(dir.Path, new VerifyOptions(AllowPartial: true));
        Assert.True(partial.Ok, string.Join("\n", partial.Problems));
        Assert.Equal(8, partial.Records);
        Assert.Contains(partial.Partial, p => p.ToString() == $"{missing}: missing: listed in the manifest but not on disk");
    }

    [Fact]
    public void Verify_ShardAndManifestDeleted_IsAProblem()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 3, perShard: 4);
        File.Delete(dir.Combine(ShardNaming.ManifestFileName));
        File.Delete(Shard(dir, 0, 3));
        VerificationReport report = DatasetVerifier.Verify(dir.Path);
        Assert.Equal([$"{dir.Path}: no manifest.json, and test: 2 of 3 numbered shards (-of-00003); missing 00000: the set cannot be known complete"], Lines(report));
    }

    [Fact]
    public void Verify_ManifestWithNullField_IsAReportLine_AndTheShardsAreStillChecked()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 2, perShard: 2);
        string manifest = dir.Combine(ShardNaming.ManifestFileName);
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"file\": \"test-00000-of-00002.tfrecord\"", "\"file\": null", StringComparison.Ordinal));
        VerificationReport report = DatasetVerifier.Verify(dir.Path);
        Assert.Equal([$"{manifest}: shards[0].file: missing, null or empty"], Lines(report));
        Assert.Equal(4, report.Records);
    }

    [Fact]
    public void Verify_ForeignShardWithoutIndex_BadLabelAndFramingBreak_AreLinesNotExceptions()
    {
        using var dir = new TempDirectory();
        string shard = dir.Combine("x-00000-of-00001.tfrecord");
        using (FileStream stream = File.Create(shard))
        {
            ForeignTfRecordTests.WriteRecord(stream, ForeignTfRecordTests.EncodeExample(TestImages.Jpeg(8, 8), -1, "s"));
            ForeignTfRecordTests.WriteRecord(stream, ForeignTfRecordTests.EncodeExample(TestImages.Jpeg(8, 8), 2, "s"));
            stream.Write(new byte[20]); // a header whose CRC fails
        }

        VerificationReport report = DatasetVerifier.Verify(dir.Path);
        Assert.Equal(2, report.Records);
        Assert.Equal(
            [$"{shard}, record 0: label -1 (0-based; stored -1) is not a class (0..131071)",
             $"{shard}, record 2: length field at offset {new FileInfo(shard).Length - 20} fails its CRC (framing lost: the rest of the shard is not checked)"],
            Lines(report));
    }

    [Fact]
    public void Verify_ShardTheManifestDoesNotList_IsReported()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 1, perShard: 2);
        string stray = dir.Combine("stray.tfrecord");
        File.Copy(Shard(dir, 0, 1), stray);
        Assert.Equal([$"{stray}: a TFRecord file the manifest does not list"], Lines(DatasetVerifier.Verify(dir.Path)));
    }

    [Fact]
    public void Verify_ProgressCountsEveryByteOnce()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 3, perShard: 3);
        var verifier = new DatasetVerifier();
        VerificationReport report = verifier.Run(dir.Path);
        Assert.True(report.Ok);
        Assert.Equal(report.Bytes, verifier.TotalBytes);
        Assert.Equal(report.Bytes, verifier.BytesDone);
    }
}
