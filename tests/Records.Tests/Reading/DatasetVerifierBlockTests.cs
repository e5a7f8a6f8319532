using System.Security.Cryptography;
using Loader.Records.Format;
using Loader.Records.Index;
using Loader.Records.Reading;

namespace Loader.Records.Tests.Reading;

/// <summary>
/// verify reads each shard once, in blocks, with records straddling the blocks: the same set checked with blocks of
/// 1 byte (every field split), sizes around the 12-byte header and 4-byte footer, and one block larger than the
/// shard must give the same report, and every corruption must be caught at its record whatever block it falls in.
/// </summary>
public class DatasetVerifierBlockTests
{
    public static TheoryData<int> BlockSizes => [1, 3, 11, 12, 13, 16, 17, 100, 1000, 4096, 1 << 22];

    [Theory]
    [MemberData(nameof(BlockSizes))]
    public void Verify_CleanSet_AnyBlockSize_IsOkWithEveryRecordCounted(int blockSize)
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 2, perShard: 5);
        VerificationReport report = new DatasetVerifier(new VerifyOptions { ReadBlockSize = blockSize }).Run(dir.Path);
        Assert.True(report.Ok, string.Join("\n", report.Problems));
        Assert.Equal(10, report.Records);
        Assert.Equal(new DirectoryInfo(dir.Path).GetFiles("*.tfrecord").Sum(f => f.Length), report.Bytes);
    }

    /// <summary>Where in record 2 of shard 0 a bit is flipped: the length, the length's CRC, the payload's protobuf
    /// framing, the JPEG inside it, the payload CRC (the last byte of the record).</summary>
    public static TheoryData<string, int> Positions()
    {
        var data = new TheoryData<string, int>();
        foreach (int block in new[] { 1, 12, 13, 17, 4096 })
        {
            foreach (string where in new[] { "length", "length crc", "payload start", "payload middle", "payload crc" })
            {
                data.Add(where, block);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Positions))]
    public void Verify_FlippedBit_AnyPositionAnyBlockSize_IsReportedAtItsRecordAndInTheHash(string where, int blockSize)
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 2, perShard: 5);
        string shard = dir.Combine(ShardNaming.ShardFileName("test", 0, 2));
        ShardIndex index = ShardIndex.Read(ShardNaming.IndexPathFor(shard));
        long start = index.Offsets[2];
        int length = index.Lengths[2];
        long at = where switch
        {
            "length" => start + 1,
            "length crc" => start + 9,
            "payload start" => start + TfRecordFraming.HeaderSize,
            "payload middle" => start + TfRecordFraming.HeaderSize + (length / 2),
            _ => start + TfRecordFraming.HeaderSize + length + 3,
        };
        byte[] bytes = File.ReadAllBytes(shard);
        bytes[at] ^= 0x04;
        File.WriteAllBytes(shard, bytes);

        VerificationReport report = new DatasetVerifier(new VerifyOptions { ReadBlockSize = blockSize }).Run(dir.Path);
        Assert.Contains(report.Problems, p => p.ShardPath == shard && p.RecordInShard == 2);
        Assert.Contains(report.Problems, p => p.ShardPath == shard && p.RecordInShard == -1 && p.Message.StartsWith("SHA-256", StringComparison.Ordinal));
        Assert.DoesNotContain(report.Problems, p => p.RecordInShard is 0 or 1 or 3 or 4);
        Assert.Equal(2, report.Problems.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Verify_TruncatedShard_AnyBlockSize_NamesTheCutRecord(int blockSize)
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 1, perShard: 4);
        string shard = dir.Combine(ShardNaming.ShardFileName("test", 0, 1));
        File.WriteAllBytes(shard, File.ReadAllBytes(shard)[..^2]);
        VerificationReport report = new DatasetVerifier(new VerifyOptions { ReadBlockSize = blockSize }).Run(dir.Path);
        Assert.Contains(report.Problems, p => p.RecordInShard == 3 && p.Message.StartsWith("truncated", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(13)]
    [InlineData(4096)]
    public void Verify_ForeignShardWithoutIndex_ByFraming_AnyBlockSize_ChecksEveryRecord(int blockSize)
    {
        using var dir = new TempDirectory();
        string shard = dir.Combine("val-00000-of-00001");
        using (var stream = File.Create(shard))
        {
            for (int r = 0; r < 4; r++)
            {
                ForeignTfRecordTests.WriteRecord(stream, ForeignTfRecordTests.EncodeExample(TestImages.Jpeg(20 + r, 12, seed: r), r + 1, $"s{r}"));
            }
        }

        var options = new VerifyOptions { ReadBlockSize = blockSize };
        VerificationReport clean = new DatasetVerifier(options).Run(dir.Path);
        Assert.True(clean.Ok, string.Join("\n", clean.Problems));
        Assert.Equal(4, clean.Records);

        byte[] bytes = File.ReadAllBytes(shard);
        bytes[^1] ^= 0x01; // the last record's payload CRC
        File.WriteAllBytes(shard, bytes);
        VerificationReport bad = new DatasetVerifier(options).Run(dir.Path);
        Assert.Equal(["record 3: payload CRC-32C mismatch"], bad.Problems.Select(p => $"record {p.RecordInShard}: {p.Message.Split(" (")[0]}"));
    }

    /// <summary>verify checks DALI's index over its bytes; it must accept and refuse exactly what
    /// <see cref="ShardIndex.ParseDaliIndex"/> (the library's parser) does, and find the same differences.</summary>
    [Theory]
    [InlineData("as written")]
    [InlineData("\uFEFF{0}")]                      // byte-order mark
    [InlineData("{0}\n\n")]                        // blank lines
    [InlineData("\n{0}")]
    [InlineData("  {0}")]                          // extra spaces
    [InlineData("{0}\r\n")]                        // CR: not a number
    [InlineData("+{0}")]
    [InlineData("-{0}")]
    [InlineData("{0} 7")]                          // three numbers on the first line
    [InlineData("99999999999999999999 {1}")]       // beyond a long
    [InlineData("0{0}")]                           // leading zero: the same number
    [InlineData("{0}\t")]
    [InlineData("1 {1}")]                          // wrong offset
    [InlineData("first line only")]
    [InlineData("no final newline")]
    [InlineData("{0}  ")]                          // spaces after the second number
    [InlineData("{0}\n   ")]                       // a line of spaces only
    [InlineData("{0}x")]
    [InlineData("{1}")]                            // one number
    [InlineData("{1} ")]
    [InlineData("9223372036854775807 {1}")]        // long.MaxValue: a number, the wrong offset
    [InlineData("9223372036854775808 {1}")]        // one beyond
    [InlineData("0 9223372036854775808")]
    public void Verify_DaliIndex_AcceptsAndRefusesWhatTheLibraryParserDoes(string shape)
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 1, perShard: 3);
        string shard = dir.Combine(ShardNaming.ShardFileName("test", 0, 1));
        string dali = ShardNaming.DaliIndexPathFor(shard);
        ShardIndex index = ShardIndex.Read(ShardNaming.IndexPathFor(shard));
        string written = File.ReadAllText(dali);
        string[] lines = written.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string first = lines[0];
        string rest = string.Concat(lines.Skip(1).Select(l => l + "\n"));
        string text = shape switch
        {
            "as written" => written,
            "first line only" => first + "\n",
            "no final newline" => written.TrimEnd('\n'),
            _ => string.Format(System.Globalization.CultureInfo.InvariantCulture, shape, first, first.Split(' ')[1]) + "\n" + rest,
        };
        File.WriteAllText(dali, text); // UTF-8 without BOM unless the text starts with U+FEFF

        string? expected = null;
        try
        {
            List<(long Offset, long Length)> entries = ShardIndex.ParseDaliIndex(File.ReadAllText(dali), dali);
            if (entries.Count != index.Count)
            {
                expected = $"DALI index has {entries.Count} lines, the index {index.Count} records";
            }
            else if (Enumerable.Range(0, entries.Count).FirstOrDefault(r => entries[r].Offset != index.Offsets[r]
                         || entries[r].Length != index.Lengths[r] + TfRecordFraming.Overhead, -1) is int r and >= 0)
            {
                expected = $"DALI index says offset {entries[r].Offset}";
            }
        }
        catch (InvalidDataException e)
        {
            expected = e.Message;
        }

        VerificationReport report = DatasetVerifier.Verify(dir.Path);
        if (expected is null)
        {
            Assert.True(report.Ok, string.Join("\n", report.Problems));
        }
        else
        {
            VerificationProblem problem = Assert.Single(report.Problems);
            Assert.StartsWith(expected, problem.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(1000)]
    [InlineData(1 << 20)]
    public void ShardStreamReader_WithAHash_HashesEveryByteOnce_WhateverTheBufferSize(int bufferSize)
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 1, perShard: 6);
        string shard = dir.Combine(ShardNaming.ShardFileName("test", 0, 1));
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        int records = 0;
        using (var reader = new ShardStreamReader(shard, verifyCrc: true, bufferSize, sha256))
        {
            while (reader.Read() is not null)
            {
                records++;
            }
        }

        Assert.Equal(6, records);
        Assert.Equal(SHA256.HashData(File.ReadAllBytes(shard)), sha256.GetHashAndReset());
    }

    [Fact]
    public void IndexInPlace_HashesFromTheScan_SameManifestIndexAndDaliIndexAsHashingTheFiles()
    {
        using var dir = new TempDirectory();
        TestRecords.Write(dir.Path, shards: 3, perShard: 4);
        string[] shards = [.. Enumerable.Range(0, 3).Select(s => dir.Combine(ShardNaming.ShardFileName("test", s, 3)))];
        // What make-records wrote: the reference for what index must produce from the same shards.
        DatasetManifest written = DatasetManifest.Read(dir.Combine(ShardNaming.ManifestFileName));
        byte[][] indexes = [.. shards.Select(s => File.ReadAllBytes(ShardNaming.IndexPathFor(s)))];
        string[] dalis = [.. shards.Select(s => File.ReadAllText(ShardNaming.DaliIndexPathFor(s)))];
        foreach (string s in shards)
        {
            File.Delete(ShardNaming.IndexPathFor(s));
            File.Delete(ShardNaming.DaliIndexPathFor(s));
        }

        DatasetManifest made = Loader.Records.Writing.RecordIndexer.IndexInPlace(dir.Path);
        for (int s = 0; s < shards.Length; s++)
        {
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(shards[s]))), made.Shards[s].Sha256);
            Assert.Equal(written.Shards[s].Sha256, made.Shards[s].Sha256);
            Assert.Equal(written.Shards[s].Bytes, made.Shards[s].Bytes);
            Assert.Equal(written.Shards[s].Records, made.Shards[s].Records);
            Assert.Equal(dalis[s], File.ReadAllText(ShardNaming.DaliIndexPathFor(shards[s])));
            ShardIndex ours = ShardIndex.Read(ShardNaming.IndexPathFor(shards[s]));
            ShardIndex theirs = ShardIndex.FromBytes(indexes[s], "written");
            Assert.Equal(theirs.Offsets, ours.Offsets);
            Assert.Equal(theirs.Lengths, ours.Lengths);
            Assert.Equal(theirs.Crcs, ours.Crcs);
            Assert.Equal(theirs.Labels, ours.Labels);
            Assert.Equal(theirs.Widths, ours.Widths);
            Assert.Equal(theirs.Heights, ours.Heights);
        }

        Assert.True(DatasetVerifier.Verify(dir.Path).Ok);
    }
}
