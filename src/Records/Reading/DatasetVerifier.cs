using System.Globalization;
using Loader.Records.Format;
using Loader.Records.Index;
using Loader.Records.Jpeg;

namespace Loader.Records.Reading;

/// <summary>One problem found by <see cref="DatasetVerifier"/>; <see cref="RecordInShard"/> is -1 for the whole file.</summary>
public sealed record VerificationProblem(string ShardPath, int RecordInShard, string Message)
{
    public override string ToString() =>
        RecordInShard >= 0 ? $"{ShardPath}, record {RecordInShard}: {Message}" : $"{ShardPath}: {Message}";
}

/// <summary>What <see cref="DatasetVerifier.Verify(string, VerifyOptions?)"/> checked and found. <see cref="Partial"/>
/// holds what makes the set incomplete when <see cref="VerifyOptions.AllowPartial"/> turned those into warnings.</summary>
public sealed record VerificationReport(int Shards, long Records, long Bytes, IReadOnlyList<VerificationProblem> Problems,
                                        IReadOnlyList<VerificationProblem> Partial)
{
    public bool Ok => Problems.Count == 0;
}

/// <summary>How <see cref="DatasetVerifier"/> checks.</summary>
/// <param name="MaxPixels">A record whose JPEG header claims more pixels is a problem (make-records' default).</param>
/// <param name="AllowPartial">A missing manifest or shard, or a shard the manifest does not list, is a warning in
/// <see cref="VerificationReport.Partial"/> instead of a problem; the shards that are there are checked as usual.</param>
/// <param name="Threads">Shards checked at once; 0: one per core.</param>
/// <param name="Sha256">Compute each shard's SHA-256 and compare it with the manifest's. False skips only that check,
/// the largest single cost (34-43% of the CPU samples on 1M small records): every record's CRC-32Cs, framing, Example,
/// label and header and both indexes are still checked, so damaged bytes are still found record by record; what is
/// no longer checked is that each shard is the very file the manifest was written with.</param>
public sealed record VerifyOptions(long MaxPixels = JpegHeader.DefaultMaxPixels, bool AllowPartial = false, int Threads = 0, bool Sha256 = true)
{
    /// <summary>Bytes per read of a shard; the tests make it tiny so that records and CRC fields straddle reads.</summary>
    internal int ReadBlockSize { get; init; } = HashingShardReader.DefaultBlockSize;
}

/// <summary>
/// Checks a record directory end to end, without ever throwing for what it finds: the manifest's fields; that every
/// shard it lists is there with its size and SHA-256 and nothing else is; each index against its shard (the checks of
/// <see cref="ShardIndex.FindProblem"/>) and DALI's index against ours; every record's framing, both CRCs, that its
/// payload is an image Example whose label and size agree with the index, whose label is a class, and whose JPEG
/// header parses and claims at most <see cref="VerifyOptions.MaxPixels"/> pixels. Every problem is a line naming the
/// file and record; one bad record does not hide the next (records are found through the index; without a usable
/// index, by the framing, up to the first break). Shards are checked in parallel, each read once, front to back,
/// its SHA-256 (unless <see cref="VerifyOptions.Sha256"/> is false) computed from the same reads as the record checks. Progress: <see cref="TotalBytes"/> and
/// <see cref="BytesDone"/>, safe to read from any thread.
/// </summary>
public sealed class DatasetVerifier(VerifyOptions? options = null)
{
    private readonly ScanProgress _progress = new();

    public VerifyOptions Options { get; } = options ?? new VerifyOptions();

    /// <summary>Bytes of shards to read in all: known once the shards are listed (0 before).</summary>
    public long TotalBytes => _progress.TotalBytes;

    public long BytesDone => _progress.BytesDone;

    public static VerificationReport Verify(string directory, VerifyOptions? options = null) => new DatasetVerifier(options).Run(directory);

    public VerificationReport Run(string directory)
    {
        var problems = new List<VerificationProblem>();
        var partial = new List<VerificationProblem>();
        void Incomplete(VerificationProblem problem) => (Options.AllowPartial ? partial : problems).Add(problem);

        if (!Directory.Exists(directory))
        {
            problems.Add(new VerificationProblem(directory, -1, "folder not found"));
            return new VerificationReport(0, 0, 0, problems, partial);
        }

        string manifestPath = Path.Combine(directory, ShardNaming.ManifestFileName);
        DatasetManifest? manifest = null;
        if (File.Exists(manifestPath))
        {
            try
            {
                manifest = DatasetManifest.Read(manifestPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // RecordFormatException names the manifest and the field; the shards are still checked, without it.
                problems.Add(new VerificationProblem(manifestPath, -1, e is RecordFormatException f ? Unprefixed(f, manifestPath) : e.Message));
            }
        }

        string[] onDisk = [.. Directory.EnumerateFiles(directory).Where(ShardNaming.LooksLikeShard).Select(Path.GetFileName).OfType<string>()
                                       .Order(StringComparer.Ordinal)];
        List<(string Path, ManifestShard? Expected)> shards;
        if (manifest is not null)
        {
            shards = [.. manifest.Shards.Select(s => (Path.Combine(directory, s.File), (ManifestShard?)s))];
            var listed = new HashSet<string>(manifest.Shards.Select(s => s.File), StringComparer.Ordinal);
            foreach (string extra in onDisk.Where(f => !listed.Contains(f)))
            {
                Incomplete(new VerificationProblem(Path.Combine(directory, extra), -1, "a TFRecord file the manifest does not list"));
            }
        }
        else
        {
            shards = [.. onDisk.Select(f => (Path.Combine(directory, f), (ManifestShard?)null))];
            string? whole = onDisk.Length == 0 ? "no TFRecord files either"
                : Directory.Exists(Path.Combine(directory, ShardNaming.WorkFolderName)) ? $"it is make-records output ({ShardNaming.WorkFolderName}/) whose run did not finish"
                : !ShardNaming.AllNumbered(onDisk) ? "the shard names do not say how many there are"
                : ShardNaming.NumberingProblem(onDisk);
            if (File.Exists(manifestPath))
            {
                // Reported above; an unreadable manifest cannot vouch for the set.
            }
            else if (whole is not null)
            {
                Incomplete(new VerificationProblem(directory, -1, $"no {ShardNaming.ManifestFileName}, and {whole}: the set cannot be known complete"));
            }
            else
            {
                partial.Add(new VerificationProblem(directory, -1,
                    $"no {ShardNaming.ManifestFileName}: no sizes or SHA-256 to check (the numbered names say all {onDisk.Length} shard(s) are there)"));
            }
        }

        _progress.Listed(shards.Sum(s => File.Exists(s.Path) ? new FileInfo(s.Path).Length : 0));
        int classCount = manifest?.Classes.Count ?? RecordDataset.MaxClassesWithoutManifest;
        int? labelBase = manifest?.LabelBase;
        var results = new ShardResult[shards.Count];
        int threads = Options.Threads > 0 ? Options.Threads : Environment.ProcessorCount;
        Parallel.For(0, shards.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, s =>
        {
            var result = new ShardResult();
            (string path, ManifestShard? expected) = shards[s];
            try
            {
                VerifyShard(directory, path, expected, classCount, labelBase, result);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Whatever went wrong is a line of the report, never a crash of the verifier.
                result.Problems.Add(new VerificationProblem(path, -1, $"could not be checked: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}"));
            }

            results[s] = result;
        });

        long records = 0, bytes = 0;
        var labelCounts = new Dictionary<int, long>();
        foreach (ShardResult result in results)
        {
            problems.AddRange(result.Problems);
            partial.AddRange(result.Partial.Where(_ => Options.AllowPartial));
            problems.AddRange(result.Partial.Where(_ => !Options.AllowPartial));
            records += result.Records;
            bytes += result.Bytes;
            foreach ((int label, long count) in result.LabelCounts)
            {
                labelCounts[label] = labelCounts.GetValueOrDefault(label) + count;
            }
        }

        if (manifest is not null)
        {
            // With a shard missing the counts cannot agree: that is the same incompleteness, not another problem.
            Action<VerificationProblem> countProblem = results.Any(r => r.Partial.Count > 0) ? Incomplete : problems.Add;
            if (records != manifest.RecordCount)
            {
                countProblem(new VerificationProblem(manifestPath, -1, $"the shards hold {records} records, the manifest says {manifest.RecordCount}"));
            }

            foreach (ManifestClass c in manifest.Classes)
            {
                long found = labelCounts.GetValueOrDefault(c.Index);
                if (found != c.Count)
                {
                    countProblem(new VerificationProblem(manifestPath, -1,
                        $"class {c.Index} ({c.Synset}) has {found} records, the manifest says {c.Count}"));
                }
            }
        }

        return new VerificationReport(shards.Count, records, bytes, problems, partial);
    }

    /// <summary>What one shard's check found; filled by one thread.</summary>
    private sealed class ShardResult
    {
        public List<VerificationProblem> Problems { get; } = [];

        /// <summary>Completeness problems (a missing shard): warnings under AllowPartial.</summary>
        public List<VerificationProblem> Partial { get; } = [];

        public Dictionary<int, long> LabelCounts { get; } = [];

        public long Records { get; set; }

        public long Bytes { get; set; }
    }

    private void VerifyShard(string directory, string path, ManifestShard? expected, int classCount, int? labelBase, ShardResult result)
    {
        if (!File.Exists(path))
        {
            result.Partial.Add(new VerificationProblem(path, -1, "missing: listed in the manifest but not on disk"));
            return;
        }

        long size = new FileInfo(path).Length;
        result.Bytes = size;
        if (expected is not null && size != expected.Bytes)
        {
            result.Problems.Add(new VerificationProblem(path, -1, $"size {size} bytes, the manifest says {expected.Bytes}"));
        }

        string indexPath = expected is not null ? Path.Combine(directory, expected.Index) : ShardNaming.IndexPathFor(path);
        ShardIndex? index = null;
        if (File.Exists(indexPath))
        {
            try
            {
                index = ShardIndex.Read(indexPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                result.Problems.Add(new VerificationProblem(indexPath, -1, e is RecordFormatException f ? Unprefixed(f, indexPath) : e.Message));
            }
        }
        else if (expected is not null)
        {
            result.Problems.Add(new VerificationProblem(path, -1, $"index missing: {indexPath}"));
        }

        if (index is not null && expected is not null && index.Count != expected.Records)
        {
            result.Problems.Add(new VerificationProblem(indexPath, -1, $"the index lists {index.Count} records, the manifest says {expected.Records}"));
        }

        if (index?.FindProblem(size, classCount) is { } lie)
        {
            // An index that cannot describe the shard is not used to find records: the framing is followed instead.
            result.Problems.Add(new VerificationProblem(indexPath, lie.Record, $"{lie.Field}: {lie.Problem}"));
            index = null;
        }

        // Without a manifest our index is 0-based over 1-based stored labels; another tool's labels may start at 0 or 1.
        var checker = new RecordChecker(path, Options.MaxPixels, classCount, labelBase ?? (index is not null ? 1 : 0), result);
        using (var reader = new HashingShardReader(path, n => _progress.Done(n), Options.ReadBlockSize, hash: Options.Sha256))
        {
            result.Records = index is not null ? checker.ByIndex(reader, index) : checker.ByFraming(reader);
            checker.AddLabelCounts();
            string? sha = reader.Finish();
            if (sha is not null && expected is not null && !string.Equals(sha, expected.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                result.Problems.Add(new VerificationProblem(path, -1, $"SHA-256 {sha} differs from the manifest's {expected.Sha256}"));
            }
        }

        string daliPath = expected is not null ? Path.Combine(directory, expected.DaliIndex) : ShardNaming.DaliIndexPathFor(path);
        if (index is not null && File.Exists(daliPath))
        {
            VerifyDaliIndex(path, daliPath, index, result.Problems);
        }
        else if (expected is not null && !File.Exists(daliPath))
        {
            result.Problems.Add(new VerificationProblem(path, -1, $"DALI index missing: {daliPath}"));
        }
    }

    /// <summary>The checks of one shard's records, in one front-to-back pass.</summary>
    private sealed class RecordChecker(string path, long maxPixels, int classCount, int labelBase, ShardResult result)
    {
        // Records per class, by 0-based label: an array (a dictionary update per record cost more than the CRC).
        // Every counted label is in [0, classCount): the index's are checked by FindProblem, the framing's here.
        private readonly int[] _counts = new int[classCount];

        /// <summary>Moves the per-class counts into the result (only the classes this shard has).</summary>
        public void AddLabelCounts()
        {
            for (int label = 0; label < _counts.Length; label++)
            {
                if (_counts[label] != 0)
                {
                    result.LabelCounts[label] = result.LabelCounts.GetValueOrDefault(label) + _counts[label];
                }
            }
        }

        /// <summary>Each indexed record where the index says (the index is known to fit the shard).</summary>
        public int ByIndex(HashingShardReader reader, ShardIndex index)
        {
            long end = 0;
            for (int r = 0; r < index.Count; r++)
            {
                long offset = index.Offsets[r];
                if (offset != end)
                {
                    Problem(r, $"indexed offset {offset}, but the previous record ends at {end} ({offset - end} bytes between them)");
                }

                int total = index.Lengths[r] + TfRecordFraming.Overhead;
                end = offset + total;
                Count(index.Labels[r]);
                ReadOnlySpan<byte> record = reader.Read(offset, total);
                if (record.Length < total)
                {
                    Problem(r, $"truncated: the record at offset {offset} needs {total} bytes, the file has {reader.Length}");
                    continue;
                }

                Check(r, offset, record, index.Lengths[r], index.Crcs[r], index.Labels[r], index.Widths[r], index.Heights[r]);
            }

            if (end != reader.Length && index.Count > 0)
            {
                result.Problems.Add(new VerificationProblem(path, -1, $"{reader.Length - end} bytes after the last indexed record"));
            }

            return index.Count;
        }

        /// <summary>Without a usable index: record after record by the framing, up to the first break.</summary>
        public int ByFraming(HashingShardReader reader)
        {
            long offset = 0;
            int r = 0;
            while (offset < reader.Length)
            {
                ReadOnlySpan<byte> header = reader.Read(offset, TfRecordFraming.HeaderSize);
                if (header.Length < TfRecordFraming.HeaderSize)
                {
                    Problem(r, $"truncated: {reader.Length - offset} bytes at offset {offset}, less than a record header");
                    break;
                }

                if (!TfRecordFraming.TryReadHeader(header, out long length))
                {
                    Problem(r, $"length field at offset {offset} fails its CRC (framing lost: the rest of the shard is not checked)");
                    break;
                }

                if (length > reader.Length - offset - TfRecordFraming.Overhead || length > TfRecordFraming.MaxPayloadLength)
                {
                    Problem(r, $"truncated: the record at offset {offset} claims {length} payload bytes, the file has {reader.Length - offset - TfRecordFraming.Overhead} after its header");
                    break;
                }

                int total = (int)length + TfRecordFraming.Overhead;
                ReadOnlySpan<byte> record = reader.Read(offset, total);
                Check(r, offset, record, (int)length, indexCrc: null, indexLabel: null, 0, 0);
                offset += total;
                r++;
            }

            return r;
        }

        private void Check(int r, long offset, ReadOnlySpan<byte> record, int length, uint? indexCrc, int? indexLabel, int width, int height)
        {
            if (!TfRecordFraming.TryReadHeader(record, out long storedLength))
            {
                Problem(r, $"length field fails its CRC (offset {offset})");
                return;
            }

            if (storedLength != length)
            {
                Problem(r, $"length field says {storedLength} bytes, the index says {length} (offset {offset})");
                return;
            }

            ReadOnlySpan<byte> payload = record.Slice(TfRecordFraming.HeaderSize, length);
            uint crc = Crc32C.Compute(payload);
            if (crc != TfRecordFraming.ReadFooterCrc(record[(TfRecordFraming.HeaderSize + length)..]))
            {
                Problem(r, $"payload CRC-32C mismatch (offset {offset})");
                return;
            }

            if (indexCrc is { } expectedCrc && crc != expectedCrc)
            {
                Problem(r, $"payload CRC-32C differs from the index (offset {offset})");
                return;
            }

            if (!ExampleLocator.TryLocate(payload, out LocatedExample located))
            {
                Problem(r, $"payload is not a tf.train.Example with image/encoded (offset {offset})");
                return;
            }

            if (located.StoredLabel is not { } stored)
            {
                Problem(r, "no image/class/label");
            }
            else if (indexLabel is { } label && stored - labelBase != label)
            {
                Problem(r, $"label {stored - labelBase} in the record, {label} in the index (0-based)");
            }
            else if (indexLabel is null)
            {
                long zeroBased = stored - labelBase;
                if (zeroBased < 0 || zeroBased >= classCount)
                {
                    Problem(r, $"label {zeroBased} (0-based; stored {stored}) is not a class (0..{classCount - 1})");
                }
                else
                {
                    Count((int)zeroBased);
                }
            }

            if (indexLabel is not null && ((located.Width is { } w && w != width) || (located.Height is { } h && h != height)))
            {
                Problem(r, $"size {located.Width}x{located.Height} in the record, {width}x{height} in the index");
            }

            ReadOnlySpan<byte> image = payload.Slice(located.EncodedOffset, located.EncodedLength);
            if (!JpegHeader.TryParse(image, out JpegInfo info, out string? problem))
            {
                Problem(r, $"image/encoded: {problem}");
            }
            else if (info.Pixels > maxPixels)
            {
                Problem(r, string.Create(CultureInfo.InvariantCulture,
                    $"image/encoded: the JPEG header claims {info.Width}x{info.Height} = {info.Pixels} pixels, more than --max-pixels {maxPixels}"));
            }
        }

        private void Count(int label) => _counts[label]++;

        private void Problem(int record, string message) => result.Problems.Add(new VerificationProblem(path, record, message));
    }

    /// <summary>
    /// DALI's index against ours, line by line over the file's bytes (no strings: this ran at a third of the SHA-256's
    /// cost when it split lines). The rules are <see cref="ShardIndex.ParseDaliIndex"/>'s: empty lines are skipped,
    /// each other line is two unsigned decimal numbers separated by spaces; a malformed line is the one problem
    /// reported; a line count that differs from the index hides per-line differences.
    /// </summary>
    private static void VerifyDaliIndex(string path, string daliPath, ShardIndex index, List<VerificationProblem> problems)
    {
        ReadOnlySpan<byte> text = File.ReadAllBytes(daliPath);
        if (text.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            text = text[3..]; // A UTF-8 byte-order mark, as File.ReadAllText would drop it.
        }

        var differences = new List<VerificationProblem>();
        int entries = 0, lineNumber = 0;
        while (!text.IsEmpty)
        {
            lineNumber++;
            int newline = text.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = newline < 0 ? text : text[..newline];
            text = newline < 0 ? [] : text[(newline + 1)..];
            if (line.IsEmpty)
            {
                continue;
            }

            if (!TryParseDaliLine(line, out long offset, out long length))
            {
                problems.Add(new VerificationProblem(path, -1, $"{daliPath}: line {lineNumber} is not \"offset length\""));
                return;
            }

            int r = entries++;
            if (r < index.Count)
            {
                long total = index.Lengths[r] + (long)TfRecordFraming.Overhead;
                if (offset != index.Offsets[r] || length != total)
                {
                    differences.Add(new VerificationProblem(path, r, string.Create(CultureInfo.InvariantCulture,
                        $"DALI index says offset {offset} length {length}, the index {index.Offsets[r]} {total}")));
                }
            }
        }

        if (entries != index.Count)
        {
            problems.Add(new VerificationProblem(path, -1, $"DALI index has {entries} lines, the index {index.Count} records"));
            return;
        }

        problems.AddRange(differences);
    }

    /// <summary>Two unsigned decimal numbers separated (and possibly surrounded) by spaces, nothing else.</summary>
    private static bool TryParseDaliLine(ReadOnlySpan<byte> line, out long offset, out long length)
    {
        length = 0;
        return TryParseDaliNumber(ref line, out offset) && TryParseDaliNumber(ref line, out length) && line.TrimStart((byte)' ').IsEmpty;
    }

    private static bool TryParseDaliNumber(ref ReadOnlySpan<byte> line, out long value)
    {
        value = 0;
        line = line.TrimStart((byte)' ');
        int digits = line.IndexOf((byte)' ');
        if (digits < 0)
        {
            digits = line.Length;
        }

        if (digits == 0 || !System.Buffers.Text.Utf8Parser.TryParse(line[..digits], out ulong parsed, out int consumed) || consumed != digits
            || parsed > long.MaxValue || line[0] is (byte)'+' or (byte)'-')
        {
            return false;
        }

        value = (long)parsed;
        line = line[digits..];
        return true;
    }

    /// <summary>The exception's message without its leading "PATH: " (the report line names the path itself).</summary>
    private static string Unprefixed(RecordFormatException e, string path) =>
        e.Message.StartsWith(path + ": ", StringComparison.Ordinal) ? e.Message[(path.Length + 2)..] : e.Message;
}
