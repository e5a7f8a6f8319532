using System.Globalization;
using System.Security.Cryptography;
using Loader.Records.Format;
using Loader.Records.Index;

namespace Loader.Records.Reading;

/// <summary>One problem found by <see cref="DatasetVerifier"/>; <see cref="RecordInShard"/> is -1 for the whole shard.</summary>
public sealed record VerificationProblem(string ShardPath, int RecordInShard, string Message)
{
    public override string ToString() =>
        RecordInShard >= 0 ? $"{ShardPath}, record {RecordInShard}: {Message}" : $"{ShardPath}: {Message}";
}

/// <summary>What <see cref="DatasetVerifier.Verify"/> checked and found.</summary>
public sealed record VerificationReport(int Shards, long Records, long Bytes, IReadOnlyList<VerificationProblem> Problems)
{
    public bool Ok => Problems.Count == 0;
}

/// <summary>
/// Checks a record directory end to end: every shard the manifest lists exists with its size and SHA-256; every
/// record's framing and both CRCs; the index (offsets, lengths, CRCs, labels, sizes) and DALI's index against the
/// shard; every payload is an image Example. Problems are collected (each naming shard and record), not thrown, so
/// one bad record does not hide the next: with an index, each record is read at its indexed offset.
/// </summary>
public static class DatasetVerifier
{
    public static VerificationReport Verify(string directory)
    {
        var problems = new List<VerificationProblem>();
        string manifestPath = Path.Combine(directory, ShardNaming.ManifestFileName);
        List<(string Path, ManifestShard? Expected)> shards;
        DatasetManifest? manifest = null;
        if (File.Exists(manifestPath))
        {
            try
            {
                manifest = DatasetManifest.Read(manifestPath);
            }
            catch (InvalidDataException e)
            {
                problems.Add(new VerificationProblem(manifestPath, -1, e.Message));
                return new VerificationReport(0, 0, 0, problems);
            }

            shards = [.. manifest.Shards.Select(s => (Path.Combine(directory, s.File), (ManifestShard?)s))];
        }
        else
        {
            shards = [.. Directory.EnumerateFiles(directory).Where(ShardNaming.LooksLikeShard).Order(StringComparer.Ordinal)
                                  .Select(p => (p, (ManifestShard?)null))];
            if (shards.Count == 0)
            {
                problems.Add(new VerificationProblem(directory, -1, "no manifest.json and no TFRecord files"));
            }
        }

        long records = 0, bytes = 0;
        var labelCounts = new Dictionary<int, long>();
        foreach ((string path, ManifestShard? expected) in shards)
        {
            if (!File.Exists(path))
            {
                problems.Add(new VerificationProblem(path, -1, "missing: listed in the manifest but not on disk"));
                continue;
            }

            long size = new FileInfo(path).Length;
            bytes += size;
            if (expected is not null)
            {
                if (size != expected.Bytes)
                {
                    problems.Add(new VerificationProblem(path, -1, $"size {size} bytes, the manifest says {expected.Bytes}"));
                }

                string sha = Sha256(path);
                if (!string.Equals(sha, expected.Sha256, StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add(new VerificationProblem(path, -1, $"SHA-256 {sha} differs from the manifest's {expected.Sha256}"));
                }
            }

            string indexPath = expected is not null ? Path.Combine(directory, expected.Index) : ShardNaming.IndexPathFor(path);
            ShardIndex? index = null;
            if (File.Exists(indexPath))
            {
                try
                {
                    index = ShardIndex.Read(indexPath);
                }
                catch (InvalidDataException e)
                {
                    problems.Add(new VerificationProblem(path, -1, e.Message));
                }
            }
            else if (expected is not null)
            {
                problems.Add(new VerificationProblem(path, -1, $"index missing: {indexPath}"));
            }

            int count = index is not null
                ? VerifyWithIndex(path, size, index, expected, manifest?.LabelBase ?? 1, problems, labelCounts)
                : VerifyByStreaming(path, problems);
            records += count;
            string daliPath = expected is not null ? Path.Combine(directory, expected.DaliIndex) : ShardNaming.DaliIndexPathFor(path);
            if (index is not null && File.Exists(daliPath))
            {
                VerifyDaliIndex(path, daliPath, index, problems);
            }
            else if (expected is not null)
            {
                problems.Add(new VerificationProblem(path, -1, $"DALI index missing: {daliPath}"));
            }
        }

        if (manifest is not null)
        {
            if (records != manifest.RecordCount)
            {
                problems.Add(new VerificationProblem(manifestPath, -1, $"the shards hold {records} records, the manifest says {manifest.RecordCount}"));
            }

            foreach (ManifestClass c in manifest.Classes)
            {
                long found = labelCounts.GetValueOrDefault(c.Index);
                if (found != c.Count)
                {
                    problems.Add(new VerificationProblem(manifestPath, -1,
                        $"class {c.Index} ({c.Synset}) has {found} records, the manifest says {c.Count}"));
                }
            }
        }

        return new VerificationReport(shards.Count, records, bytes, problems);
    }

    private static int VerifyWithIndex(string path, long size, ShardIndex index, ManifestShard? expected, int labelBase,
                                       List<VerificationProblem> problems, Dictionary<int, long> labelCounts)
    {
        if (index.ShardBytes != size)
        {
            problems.Add(new VerificationProblem(path, -1, $"the index was written for {index.ShardBytes} bytes, the file has {size}"));
        }

        if (expected is not null && index.Count != expected.Records)
        {
            problems.Add(new VerificationProblem(path, -1, $"the index has {index.Count} records, the manifest says {expected.Records}"));
        }

        using SafeFileHandleScope file = new(path);
        byte[] buffer = [];
        long expectedOffset = 0;
        for (int r = 0; r < index.Count; r++)
        {
            labelCounts[index.Labels[r]] = labelCounts.GetValueOrDefault(index.Labels[r]) + 1;
            long offset = index.Offsets[r];
            if (offset != expectedOffset)
            {
                problems.Add(new VerificationProblem(path, r, $"indexed offset {offset}, but the previous record ends at {expectedOffset}"));
            }

            int total = index.Lengths[r] + TfRecordFraming.Overhead;
            expectedOffset = offset + total;
            if (offset < 0 || offset + total > size)
            {
                problems.Add(new VerificationProblem(path, r, $"truncated: the record at offset {offset} needs {total} bytes, the file has {size}"));
                continue;
            }

            if (buffer.Length < total)
            {
                buffer = new byte[Math.Max(total, buffer.Length * 2)];
            }

            Span<byte> record = buffer.AsSpan(0, total);
            RandomAccess.Read(file.Handle, record, offset);
            string? problem = CheckRecord(record, index.Lengths[r], index.Crcs[r], out LocatedExample located);
            if (problem is null && located.StoredLabel is { } stored && stored - labelBase != index.Labels[r])
            {
                problem = $"label {stored - labelBase} in the record, {index.Labels[r]} in the index";
            }

            if (problem is null && ((located.Width is { } w && w != index.Widths[r]) || (located.Height is { } h && h != index.Heights[r])))
            {
                problem = $"size {located.Width}x{located.Height} in the record, {index.Widths[r]}x{index.Heights[r]} in the index";
            }

            if (problem is not null)
            {
                problems.Add(new VerificationProblem(path, r, $"{problem} (offset {offset})"));
            }
        }

        if (expectedOffset != size && index.Count > 0)
        {
            problems.Add(new VerificationProblem(path, -1, $"{size - expectedOffset} bytes after the last indexed record"));
        }

        return index.Count;
    }

    /// <summary>Checks framing, CRCs and the Example; null when the record is sound.</summary>
    private static string? CheckRecord(ReadOnlySpan<byte> record, int length, uint indexCrc, out LocatedExample located)
    {
        located = default;
        if (!TfRecordFraming.TryReadHeader(record, out long storedLength))
        {
            return "length field fails its CRC";
        }

        if (storedLength != length)
        {
            return $"length field says {storedLength} bytes, the index says {length}";
        }

        ReadOnlySpan<byte> payload = record.Slice(TfRecordFraming.HeaderSize, length);
        uint crc = Crc32C.Compute(payload);
        if (crc != TfRecordFraming.ReadFooterCrc(record[(TfRecordFraming.HeaderSize + length)..]))
        {
            return "payload CRC-32C mismatch";
        }

        if (crc != indexCrc)
        {
            return "payload CRC-32C differs from the index";
        }

        return ExampleLocator.TryLocate(payload, out located) ? null : "payload is not a tf.train.Example with image/encoded";
    }

    private static int VerifyByStreaming(string path, List<VerificationProblem> problems)
    {
        using var reader = new Reading.ShardStreamReader(path);
        int count = 0;
        try
        {
            while (reader.Read() is { } record)
            {
                count++;
                if (!ExampleLocator.TryLocate(record.Payload.Span, out _))
                {
                    problems.Add(new VerificationProblem(path, record.RecordInShard, "payload is not a tf.train.Example with image/encoded"));
                }
            }
        }
        catch (RecordCorruptException e)
        {
            // Without an index the framing after a bad record cannot be trusted: report it and stop this shard.
            problems.Add(new VerificationProblem(path, e.RecordInShard, e.Problem));
        }

        return count;
    }

    private static void VerifyDaliIndex(string path, string daliPath, ShardIndex index, List<VerificationProblem> problems)
    {
        List<(long Offset, long Length)> entries;
        try
        {
            entries = ShardIndex.ParseDaliIndex(File.ReadAllText(daliPath), daliPath);
        }
        catch (InvalidDataException e)
        {
            problems.Add(new VerificationProblem(path, -1, e.Message));
            return;
        }

        if (entries.Count != index.Count)
        {
            problems.Add(new VerificationProblem(path, -1, $"DALI index has {entries.Count} lines, the index {index.Count} records"));
            return;
        }

        for (int r = 0; r < entries.Count; r++)
        {
            long total = index.Lengths[r] + (long)TfRecordFraming.Overhead;
            if (entries[r].Offset != index.Offsets[r] || entries[r].Length != total)
            {
                problems.Add(new VerificationProblem(path, r, string.Create(CultureInfo.InvariantCulture,
                    $"DALI index says offset {entries[r].Offset} length {entries[r].Length}, the index {index.Offsets[r]} {total}")));
            }
        }
    }

    private static string Sha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private readonly struct SafeFileHandleScope(string path) : IDisposable
    {
        public Microsoft.Win32.SafeHandles.SafeFileHandle Handle { get; } =
            File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);

        public void Dispose() => Handle.Dispose();
    }
}
