using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using Loader.Records.Format;
using Loader.Records.Index;
using Loader.Records.Reading;

namespace Loader.Records;

/// <summary>
/// A directory of record shards opened for random access by global sample id (0 .. Count-1, shard after shard, in
/// record order). Thread-safe for concurrent reads: every read is a positioned read (<see cref="RandomAccess"/>) on a
/// shared file handle, opened on first use and capped (<see cref="RecordReadOptions.MaxOpenShards"/>). Reads our directories
/// (manifest + indexes) and plain TFRecord files from other tools (indexed on the fly at open).
/// </summary>
public sealed class RecordDataset : IDisposable
{
    private readonly string[] _shardPaths;
    private readonly ShardHandleCache _handles;
    private readonly long[] _shardStarts; // _shardStarts[s] = global id of shard s's first record; one extra at the end.
    private readonly long[] _offsets;
    private readonly int[] _lengths;
    private readonly uint[] _crcs;
    private readonly int[] _labels;
    private readonly int[] _widths;
    private readonly int[] _heights;
    private readonly bool _verifyCrc;
    private readonly int? _labelBase; // what the records' own labels add to the index's; null: not known

    private RecordDataset(string directory, DatasetManifest? manifest, IReadOnlyList<ClassInfo> classes, string[] shardPaths,
                          ShardIndex[] indexes, bool verifyCrc, int? labelBase, int maxOpenShards, IReadOnlyList<string> leftOut)
    {
        _labelBase = labelBase;
        Directory = directory;
        LeftOut = leftOut;
        Manifest = manifest;
        Classes = classes;
        _shardPaths = shardPaths;
        _verifyCrc = verifyCrc;
        _shardStarts = new long[indexes.Length + 1];
        for (int s = 0; s < indexes.Length; s++)
        {
            _shardStarts[s + 1] = _shardStarts[s] + indexes[s].Count;
        }

        long count = _shardStarts[^1];
        _offsets = new long[count];
        _lengths = new int[count];
        _crcs = new uint[count];
        _labels = new int[count];
        _widths = new int[count];
        _heights = new int[count];
        for (int s = 0; s < indexes.Length; s++)
        {
            ShardIndex index = indexes[s];
            int start = (int)_shardStarts[s];
            index.Offsets.CopyTo(_offsets, start);
            index.Lengths.CopyTo(_lengths, start);
            index.Crcs.CopyTo(_crcs, start);
            index.Labels.CopyTo(_labels, start);
            index.Widths.CopyTo(_widths, start);
            index.Heights.CopyTo(_heights, start);
        }

        // Opened on first use, at most MaxOpenShards at once: any shard count works under any descriptor limit.
        _handles = new ShardHandleCache(shardPaths, maxOpenShards);
    }

    public string Directory { get; }

    /// <summary>The manifest, or null for a directory of plain TFRecord files.</summary>
    public DatasetManifest? Manifest { get; }

    public long Count => _offsets.LongLength;

    public IReadOnlyList<ClassInfo> Classes { get; }

    public int ShardCount => _shardPaths.Length;

    /// <summary>
    /// Empty for a complete set. Opened with <see cref="RecordReadOptions.AllowPartial"/>, one line per thing that
    /// made the set incomplete (a missing manifest, a shard missing or disagreeing with it and left out): the caller
    /// must show these to the user.
    /// </summary>
    public IReadOnlyList<string> LeftOut { get; }

    /// <summary>
    /// Opens a record directory: <c>manifest.json</c> and the shards' indexes, every field checked (see
    /// <see cref="DatasetManifest"/> and <see cref="ShardIndex.FindProblem"/>); a set whose shards disagree with the
    /// manifest is refused. Without a manifest, the TFRecord files in it (sorted by name, indexed on the fly where our
    /// index is missing) are opened only when their names prove the set whole (every <c>NAME-SSSSS-of-NNNNN</c>);
    /// otherwise, or for any disagreement, a <see cref="RecordFormatException"/> unless
    /// <see cref="RecordReadOptions.AllowPartial"/>, which takes what is there and lists the rest in <see cref="LeftOut"/>.
    /// </summary>
    public static RecordDataset Open(string directory, RecordReadOptions? options = null)
    {
        options ??= new RecordReadOptions();
        if (!System.IO.Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"record directory not found: {directory}");
        }

        string manifestPath = Path.Combine(directory, ShardNaming.ManifestFileName);
        if (!File.Exists(manifestPath))
        {
            return OpenPlainShards(directory, options, []);
        }

        DatasetManifest manifest;
        try
        {
            manifest = DatasetManifest.Read(manifestPath);
        }
        catch (RecordFormatException e) when (options.AllowPartial)
        {
            return OpenPlainShards(directory, options, [$"{e.Message}; took the TFRecord files in the folder instead"]);
        }

        return OpenWithManifest(directory, manifest, options);
    }

    public RecordEntry GetEntry(long sampleId)
    {
        int shard = ShardOf(sampleId);
        return new RecordEntry(shard, (int)(sampleId - _shardStarts[shard]), _offsets[sampleId], _lengths[sampleId],
                               _crcs[sampleId], _labels[sampleId], _widths[sampleId], _heights[sampleId]);
    }

    public string GetShardPath(int shard) => _shardPaths[shard];

    /// <summary>The record's <c>image/filename</c> (slow path: reads and parses the record), or
    /// <c>SHARD#RECORD</c> when it has none.</summary>
    public string GetFileName(long sampleId)
    {
        RecordEntry entry = GetEntry(sampleId);
        string fallback = string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(_shardPaths[entry.Shard])}#{entry.RecordInShard}");
        byte[] buffer = new byte[entry.Length + TfRecordFraming.Overhead];
        try
        {
            ReadExactly(entry.Shard, entry.RecordInShard, buffer, entry.Offset);
            string name = ImageExample.Parse(buffer.AsSpan(TfRecordFraming.HeaderSize, entry.Length)).FileName;
            return name.Length > 0 ? name : fallback;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or Google.Protobuf.InvalidProtocolBufferException)
        {
            return fallback;
        }
    }

    /// <summary>
    /// Reads record <paramref name="sampleId"/> into <paramref name="buffer"/> (replaced by a larger
    /// <see cref="ArrayPool{T}.Shared"/> array when too small), checks its CRCs unless disabled, and returns where the
    /// encoded image is and its 0-based label. No allocation once the buffer is big enough.
    /// </summary>
    public EncodedImage ReadImage(long sampleId, ref byte[] buffer)
    {
        int shard = ShardOf(sampleId);
        int recordInShard = (int)(sampleId - _shardStarts[shard]);
        int length = _lengths[sampleId];
        int total = length + TfRecordFraming.Overhead;
        if (buffer.Length < total)
        {
            GrowBuffer(ref buffer, total);
        }

        Span<byte> record = buffer.AsSpan(0, total);
        ReadExactly(shard, recordInShard, record, _offsets[sampleId]);
        if (!TfRecordFraming.TryReadHeader(record, out long storedLength) && _verifyCrc)
        {
            ThrowCorrupt(shard, recordInShard, "length field fails its CRC", record);
        }

        if (storedLength != length)
        {
            ThrowCorrupt(shard, recordInShard,
                string.Create(CultureInfo.InvariantCulture, $"length field says {storedLength} bytes, the index says {length}"), record);
        }

        ReadOnlySpan<byte> payload = record.Slice(TfRecordFraming.HeaderSize, length);
        if (_verifyCrc)
        {
            uint crc = Crc32C.Compute(payload);
            if (crc != TfRecordFraming.ReadFooterCrc(record[(TfRecordFraming.HeaderSize + length)..]))
            {
                ThrowCorrupt(shard, recordInShard, "payload CRC-32C mismatch", record);
            }

            if (crc != _crcs[sampleId])
            {
                ThrowCorrupt(shard, recordInShard, "payload CRC-32C differs from the index (shard rewritten after indexing?)", record);
            }
        }

        if (!ExampleLocator.TryLocate(payload, out LocatedExample located))
        {
            ThrowCorrupt(shard, recordInShard, "payload is not a tf.train.Example with image/encoded bytes", record);
        }

        int label = _labels[sampleId];
        if (_labelBase is int labelBase && (located.StoredLabel is long stored ? stored - labelBase != label : label >= 0))
        {
            ThrowLabelMismatch(shard, recordInShard, located.StoredLabel, labelBase, label, record);
        }

        return new EncodedImage(TfRecordFraming.HeaderSize + located.EncodedOffset, located.EncodedLength, label);
    }

    /// <summary>
    /// Starts reading record <paramref name="sampleId"/> into the OS page cache in the background (a hint, returns
    /// at once), so that its <see cref="ReadImage"/> a little later does not wait for the disk: the loader's
    /// read-ahead issues this for the samples its workers will decode next. No allocation.
    /// </summary>
    public void Prefetch(long sampleId)
    {
        int shard = ShardOf(sampleId);
        _handles.Advise(shard, _offsets[sampleId], (long)_lengths[sampleId] + TfRecordFraming.Overhead);
    }

    /// <summary>Shard files open right now (at most <see cref="RecordReadOptions.MaxOpenShards"/>).</summary>
    public int OpenShardFiles => _handles.OpenCount;

    public void Dispose() => _handles.Dispose();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ShardOf(long sampleId)
    {
        if ((ulong)sampleId >= (ulong)_offsets.LongLength)
        {
            ThrowSampleOutOfRange(sampleId);
        }

        // Last shard whose start is <= sampleId (empty shards share a start; skip past them).
        int lo = 0, hi = _shardPaths.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >> 1;
            if (_shardStarts[mid] <= sampleId)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return lo;
    }

    private void ReadExactly(int shard, int recordInShard, Span<byte> destination, long offset)
    {
        int done = 0;
        while (done < destination.Length)
        {
            int n = _handles.Read(shard, destination[done..], offset + done);
            if (n == 0)
            {
                ThrowTruncated(shard, recordInShard, offset, destination.Length, done);
            }

            done += n;
        }
    }

    private static void GrowBuffer(ref byte[] buffer, int size)
    {
        // The old array is left to the GC, not returned to the pool: it may be the caller's own array, and giving
        // a caller's array to ArrayPool.Shared would hand it to some other renter while the caller still uses it.
        buffer = ArrayPool<byte>.Shared.Rent(size);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowCorrupt(int shard, int recordInShard, string problem, ReadOnlySpan<byte> record)
    {
        string? fileName = null;
        try
        {
            if (record.Length > TfRecordFraming.Overhead)
            {
                fileName = ImageExample.Parse(record[TfRecordFraming.HeaderSize..^TfRecordFraming.FooterSize]).FileName;
            }
        }
        catch (Exception e) when (e is InvalidDataException or Google.Protobuf.InvalidProtocolBufferException)
        {
            // The payload is unreadable: the message names shard and record only.
        }

        throw new RecordCorruptException(_shardPaths[shard], recordInShard, problem, string.IsNullOrEmpty(fileName) ? null : fileName);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowLabelMismatch(int shard, int recordInShard, long? stored, int labelBase, int indexLabel, ReadOnlySpan<byte> record) =>
        ThrowCorrupt(shard, recordInShard, string.Create(CultureInfo.InvariantCulture,
            $"the record's own label ({(stored is long own ? (own - labelBase).ToString(CultureInfo.InvariantCulture) : "none")}, 0-based) differs from the index's ({indexLabel})"), record);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowTruncated(int shard, int recordInShard, long offset, int needed, int got) =>
        throw new RecordCorruptException(_shardPaths[shard], recordInShard, string.Create(CultureInfo.InvariantCulture,
            $"truncated: the record at offset {offset} needs {needed} bytes but the file ends after {got}"));

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowSampleOutOfRange(long sampleId) =>
        throw new ArgumentOutOfRangeException(nameof(sampleId), sampleId, $"the data set has {Count} samples");

    private static RecordDataset OpenWithManifest(string directory, DatasetManifest manifest, RecordReadOptions options)
    {
        var paths = new List<string>(manifest.Shards.Count);
        var indexes = new List<ShardIndex>(manifest.Shards.Count);
        var leftOut = new List<string>();
        foreach (ManifestShard shard in manifest.Shards)
        {
            string path = Path.Combine(directory, shard.File);
            try
            {
                indexes.Add(OpenShardIndex(directory, path, shard, manifest, options.VerifyCrc));
                paths.Add(path);
            }
            catch (Exception e) when (options.AllowPartial && e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                leftOut.Add($"left out: {e.Message}");
            }
        }

        ClassInfo[] classes = [.. manifest.Classes.Select(c => new ClassInfo(c.Index, c.Synset, c.Name))];
        return new RecordDataset(directory, manifest, classes, [.. paths], [.. indexes], options.VerifyCrc, manifest.LabelBase,
                                 options.MaxOpenShards, leftOut);
    }

    /// <summary>One shard the manifest lists: there, of its size, with an index that agrees with both.</summary>
    private static ShardIndex OpenShardIndex(string directory, string path, ManifestShard shard, DatasetManifest manifest, bool verifyCrc)
    {
        if (!File.Exists(path))
        {
            throw new RecordFormatException(path, null, -1, "missing: the manifest lists this shard but the file does not exist");
        }

        long size = new FileInfo(path).Length;
        if (size != shard.Bytes)
        {
            throw new RecordFormatException(path, null, -1, size < shard.Bytes
                ? $"truncated: the file has {size} bytes, the manifest says {shard.Bytes}"
                : $"the file has {size} bytes, the manifest says {shard.Bytes}");
        }

        string indexPath = Path.Combine(directory, shard.Index);
        ShardIndex index = File.Exists(indexPath)
            ? ShardIndex.Read(indexPath)
            : ToZeroBased(ShardScanner.Scan(path, verifyCrc).Index, manifest.LabelBase);
        if (index.Count != shard.Records)
        {
            throw new RecordFormatException(indexPath, null, -1,
                $"the index lists {index.Count} records, the manifest says {shard.Records} for {shard.File}");
        }

        index.Validate(indexPath, size, manifest.Classes.Count);
        return index;
    }

    private static RecordDataset OpenPlainShards(string directory, RecordReadOptions options, List<string> leftOut)
    {
        // Shards without our index (TensorFlow's ImageNet build writes 1,024 of them) are scanned one per core.
        PlainShards plain = IndexPlainShards(directory, options.VerifyCrc, trustOwnIndexes: true, threads: Environment.ProcessorCount);
        string[] names = [.. plain.Paths.Select(Path.GetFileName).OfType<string>()];
        string? whole = System.IO.Directory.Exists(Path.Combine(directory, ShardNaming.WorkFolderName))
            ? $"it is make-records output ({ShardNaming.WorkFolderName}/) whose run did not finish"
            : !ShardNaming.AllNumbered(names)
            ? $"the shard names ({Path.GetFileName(plain.Paths[0])}, ...) do not say how many there are"
            : ShardNaming.NumberingProblem(names);
        if (whole is not null)
        {
            if (!options.AllowPartial)
            {
                throw new RecordFormatException(directory, null, -1,
                    $"no {ShardNaming.ManifestFileName}, and {whole}: the set may be incomplete. Index it with `make-records index DIR` (writes a manifest) or allow a partial set (--allow-partial)");
            }

            leftOut.Add($"{directory}: no {ShardNaming.ManifestFileName}, and {whole}: took the {plain.Paths.Length} TFRecord file(s) there");
        }

        return new RecordDataset(directory, null, plain.Classes, plain.Paths, plain.Indexes, options.VerifyCrc,
                                 plain.LabelBaseKnown ? plain.LabelBase : null, options.MaxOpenShards, leftOut);
    }

    /// <summary>The most classes a set without a manifest may have (labels are 0..this-1): ImageNet-21k has 21,841.</summary>
    public const int MaxClassesWithoutManifest = 1 << 17;

    /// <summary>A folder of TFRecord files indexed: paths (sorted by name), 0-based indexes, classes, label base.
    /// <paramref name="LabelBaseKnown"/> is false when every shard had our own index and none was scanned: the index
    /// labels are 0-based, but what the records themselves store is then not known.</summary>
    // Sha256s: per shard, its SHA-256 when it was scanned with hash: true (null for a shard whose own index was used).
    internal sealed record PlainShards(string[] Paths, ShardIndex[] Indexes, ClassInfo[] Classes, int LabelBase, bool LabelBaseKnown = true,
                                       string?[]? Sha256s = null);

    /// <summary>
    /// Indexes every TFRecord file of a folder. Our own index beside a shard is used when
    /// <paramref name="trustOwnIndexes"/> and it matches the file's size; other shards are read front to back (with
    /// <paramref name="hash"/>, each one's SHA-256 computed from those same reads: make-records index), up to
    /// <paramref name="threads"/> at once. When several shards are bad, the error is the first one's (by name), as a
    /// one-at-a-time scan would report; <paramref name="progress"/> counts the shards' bytes as each one finishes.
    /// </summary>
    internal static PlainShards IndexPlainShards(string directory, bool verifyCrc, bool trustOwnIndexes, long maxPixels = long.MaxValue, bool hash = false,
                                                 int threads = 1, ScanProgress? progress = null)
    {
        string[] paths = [.. System.IO.Directory.EnumerateFiles(directory).Where(ShardNaming.LooksLikeShard).Order(StringComparer.Ordinal)];
        if (paths.Length == 0)
        {
            throw new FileNotFoundException(
                $"{directory}: no {ShardNaming.ManifestFileName} and no TFRecord files (*.tfrecord, *.tfrecords, NAME-00000-of-00001)");
        }

        progress?.Listed(paths.Sum(p => new FileInfo(p).Length));
        var indexes = new ShardIndex?[paths.Length];
        var scans = new ScannedShard?[paths.Length];
        var failures = new System.Runtime.ExceptionServices.ExceptionDispatchInfo?[paths.Length];
        Parallel.For(0, paths.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, (s, loop) =>
        {
            try
            {
                string indexPath = ShardNaming.IndexPathFor(paths[s]);
                if (trustOwnIndexes && File.Exists(indexPath) && ShardIndex.Read(indexPath) is { } own
                    && own.ShardBytes == new FileInfo(paths[s]).Length)
                {
                    indexes[s] = own;
                }
                else
                {
                    scans[s] = ShardScanner.Scan(paths[s], verifyCrc, maxPixels, hash);
                }

                progress?.Done((indexes[s] ?? scans[s]!.Index).ShardBytes);
            }
            catch (Exception e)
            {
                // Break: every shard before this one still runs, so the lowest failing shard is always known.
                failures[s] = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
                loop.Break();
            }
        });
        failures.FirstOrDefault(f => f is not null)?.Throw();

        // TensorFlow's ImageNet scripts store labels 1..1000 (0 = background); a stored 0 means the writer was 0-based.
        bool zeroBased = scans.Any(scan => scan is not null && scan.Index.Labels.Contains(0));
        int labelBase = zeroBased ? 0 : 1;
        var names = new Dictionary<int, (string Synset, string Text)>();
        for (int s = 0; s < paths.Length; s++)
        {
            if (scans[s] is { } scan)
            {
                indexes[s] = ToZeroBased(scan.Index, labelBase);
                foreach ((long stored, (string synset, string text)) in scan.ClassesByStoredLabel)
                {
                    names.TryAdd((int)(stored - labelBase), (synset, text));
                }
            }
        }

        ShardIndex[] all = [.. indexes.Select(i => i!)];
        int classCount = 0;
        for (int s = 0; s < all.Length; s++)
        {
            int[] labels = all[s].Labels;
            for (int r = 0; r < labels.Length; r++)
            {
                // Without a manifest the labels are the only word on the class count: bound it before allocating.
                if ((uint)labels[r] >= MaxClassesWithoutManifest)
                {
                    throw new RecordFormatException(paths[s], "image/class/label", r, labels[r] < 0
                        ? $"no usable label (stored {(long)labels[r] + labelBase}; labels are {labelBase}-based)"
                        : $"label {labels[r]} (0-based) is beyond the {MaxClassesWithoutManifest} classes a set without a manifest may have");
                }

                classCount = Math.Max(classCount, labels[r] + 1);
            }
        }

        for (int s = 0; s < all.Length; s++)
        {
            if (scans[s] is null)
            {
                all[s].Validate(ShardNaming.IndexPathFor(paths[s]), all[s].ShardBytes, classCount);
            }
        }

        var classes = new ClassInfo[classCount];
        for (int c = 0; c < classes.Length; c++)
        {
            string id = c.ToString(CultureInfo.InvariantCulture);
            classes[c] = names.TryGetValue(c, out var n)
                ? new ClassInfo(c, n.Synset.Length > 0 ? n.Synset : id, n.Text.Length > 0 ? n.Text : (n.Synset.Length > 0 ? n.Synset : id))
                : new ClassInfo(c, id, id);
        }

        return new PlainShards(paths, all, classes, labelBase, scans.Any(scan => scan is not null), [.. scans.Select(scan => scan?.Sha256)]);
    }

    /// <summary>Stored labels to 0-based; records without a label get -1.</summary>
    private static ShardIndex ToZeroBased(ShardIndex stored, int labelBase)
    {
        int[] labels = [.. stored.Labels.Select(l => l == int.MinValue ? -1 : l - labelBase)];
        return new ShardIndex(stored.ShardFile, stored.ShardBytes, stored.Offsets, stored.Lengths, stored.Crcs, labels,
                              stored.Widths, stored.Heights);
    }
}
