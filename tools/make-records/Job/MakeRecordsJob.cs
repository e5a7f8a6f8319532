using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using System.Text.Json;
using Loader.Records;
using Loader.Records.Format;
using Loader.Records.Index;
using Loader.Records.Writing;
using Loader.Tools.MakeRecords.Inputs;
using Loader.Tools.MakeRecords.Sanitizing;

namespace Loader.Tools.MakeRecords.Job;

/// <summary>What a run produced.</summary>
internal sealed record JobResult(DatasetManifest Manifest, RunReport Report);

/// <summary>
/// One make-records run: scan the inputs, shuffle them with the seed, cut the order into shards, sanitize and write
/// the shards in parallel, then the manifest and the report. Output bytes depend on the inputs, the seed and the
/// options, never on the thread count: each shard's inputs and their order are fixed before any work starts, and a
/// shard's records are appended in that order whichever thread prepared them. A shard whose checkpoint (in
/// <c>.make-records/</c>) matches the plan is kept as it is, so a rerun after a kill finishes the job.
/// </summary>
internal sealed class MakeRecordsJob(MakeRecordsOptions options)
{
    public const string WorkFolderName = ShardNaming.WorkFolderName;
    private const int ChunkSize = 32;

    private long _itemsDone;
    private long _bytesDone;

    public MakeRecordsOptions Options { get; } = options;

    /// <summary>Inputs handled so far (for a progress bar; safe to read from another thread).</summary>
    public long ItemsDone => Interlocked.Read(ref _itemsDone);

    public long BytesDone => Interlocked.Read(ref _bytesDone);

    /// <summary>Inputs in total, known once the scan is done (0 before).</summary>
    public long ItemsTotal { get; private set; }

    public JobResult Run(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        Options.Validate();
        string input = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Options.Input));
        string output = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Options.Output));
        if (string.Equals(input, output, StringComparison.Ordinal))
        {
            throw new ArgumentException("--output must differ from --input (to index TFRecord files where they are, use: make-records index DIR)");
        }

        // An output inside the input would be read back as input by the next run (and its shards as images).
        string realInput = Interop.LibC.RealPath(input) ?? input;
        string realOutput = RealPathOfNew(output);
        if (IsInside(output, input) || IsInside(realOutput, realInput))
        {
            throw new ArgumentException($"--output {Options.Output} is inside --input {Options.Input}: choose an output folder outside the input");
        }

        Directory.CreateDirectory(Options.Output);
        string workFolder = Path.Combine(Options.Output, WorkFolderName);
        Directory.CreateDirectory(workFolder);
        using OutputLock outputLock = OutputLock.Take(workFolder, Options.Output);

        using InputSet inputs = InputScanner.Scan(Options.Input, Options.Scan);
        ItemsTotal = inputs.Items.Count;
        string name = Options.Name ?? DefaultName(Options.Input);
        int[] order = SeededShuffle.Permutation(inputs.Items.Count, Options.Seed);
        long totalBytes = inputs.Items.TotalSize;
        long planned = Options.Shards ?? Math.Max(1, (totalBytes + Options.ShardSize - 1) / Options.ShardSize);
        if (planned > MakeRecordsOptions.MaxShards)
        {
            throw new ArgumentException(
                $"--shard-size {Options.ShardSize} bytes would cut {totalBytes} input bytes into {planned} shards, more than {MakeRecordsOptions.MaxShards}: raise --shard-size");
        }

        int shardCount = (int)planned;
        RemoveStaleFiles(name, shardCount);

        var sanitizer = new ImageSanitizer(Options.Sanitize);
        var results = new ShardCheckpoint[shardCount];
        int reused = 0;
        int outer = Math.Clamp(Math.Min(Options.Threads, shardCount), 1, shardCount);
        int inner = Math.Max(1, Options.Threads / outer);
        try
        {
            Parallel.For(0, shardCount, new ParallelOptions { MaxDegreeOfParallelism = outer, CancellationToken = cancellationToken }, shard =>
            {
                // The shard's inputs, as indexes into the input list, in plan order.
                int[] items = new ShardPlan(order, shardCount).Items(shard).ToArray();

                string shardPath = Path.Combine(Options.Output, ShardNaming.ShardFileName(name, shard, shardCount));
                string checkpointPath = Path.Combine(workFolder, Path.GetFileName(shardPath) + ".json");
                string digest = PlanDigest(name, shard, shardCount, inputs, items);
                if (TryReuse(shardPath, checkpointPath, digest) is { } done)
                {
                    results[shard] = done;
                    Interlocked.Increment(ref reused);
                    Interlocked.Add(ref _itemsDone, items.Length);
                    return;
                }

                results[shard] = WriteShard(shardPath, digest, items, inputs, sanitizer, inner, cancellationToken);
                string temporary = checkpointPath + ".tmp";
                File.WriteAllText(temporary, JsonSerializer.Serialize(results[shard], JobJsonContext.Default.ShardCheckpoint));
                File.Move(temporary, checkpointPath, overwrite: true);
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
        {
            // Report the first real failure (a full disk, an unwritable folder), not the parallel loop's wrapper.
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }

        var counts = new long[inputs.Classes.Count];
        foreach (ShardCheckpoint result in results)
        {
            for (int i = 0; i < result.Labels.Length; i++)
            {
                counts[result.Labels[i]] += result.Counts[i];
            }
        }

        // Only the inputs that were not written as they are are remembered one by one; the rest follow from the plan.
        var plan = new ShardPlan(order, shardCount);
        List<InputOutcome> notWritten = [.. NotWritten(results, plan, inputs, name)
                                              .Concat(inputs.Ignored.Select(i => new InputOutcome(i.Path, Skipped, i.Reason, -1, null, null)))];
        long inputFiles = inputs.Items.Count + inputs.Ignored.Count;
        long reencoded = notWritten.Count(o => o.Status == Reencoded);
        long skipped = notWritten.Count(o => o.Status == Skipped);
        long transcoded = notWritten.Count(o => o.Status == Transcoded);
        long records = results.Sum(r => r.Shard.Records);
        long written = records - reencoded - transcoded;
        string? restart = Options.Sanitize.Restart.IsOff ? null : Options.Sanitize.Restart.ToString();
        var manifest = new DatasetManifest(
            RecordFormat.Version,
            name,
            records,
            [.. inputs.Classes.Select(c => new ManifestClass(c.Index, c.Synset, c.Name, counts[c.Index]))],
            [.. results.Select(r => r.Shard)],
            new ManifestSource(Options.Input, inputs.Kind, Options.Seed, inputFiles, written, reencoded, skipped,
                               Options.Sanitize.MaxSide) { RestartInterval = restart, Transcoded = transcoded });
        manifest.Write(Path.Combine(Options.Output, ShardNaming.ManifestFileName));

        var report = new RunReport(Options.Input, Options.Output, inputs.Kind, inputFiles, written, reencoded, skipped,
                                   manifest.RecordCount, shardCount, reused, Math.Round(clock.Elapsed.TotalSeconds, 3), notWritten)
        {
            RestartInterval = restart,
            Transcoded = transcoded,
        };
        if (Options.ReportPath is { } reportPath)
        {
            RunReportWriter.Write(reportPath, report, inputs, plan, results, name);
        }

        return new JobResult(manifest, report);
    }

    public const string Written = "written";
    public const string Reencoded = "reencoded";
    public const string Skipped = "skipped";
    public const string Transcoded = "transcoded";

    /// <summary>The skipped and re-encoded inputs of every shard, with where the re-encoded ones landed.</summary>
    private static IEnumerable<InputOutcome> NotWritten(ShardCheckpoint[] results, ShardPlan plan, InputSet inputs, string name)
    {
        for (int s = 0; s < results.Length; s++)
        {
            string shardFile = ShardNaming.ShardFileName(name, s, results.Length);
            int skippedBefore = 0;
            foreach (ItemOutcome outcome in results[s].NotWritten)
            {
                int item = plan.ItemAt(s, outcome.Item);
                string path = inputs.Items.PathOf(item);
                int label = inputs.Items.LabelOf(item);
                if (outcome.Status == Skipped)
                {
                    skippedBefore++;
                    yield return new InputOutcome(path, Skipped, outcome.Reason, label, null, null);
                }
                else
                {
                    yield return new InputOutcome(path, outcome.Status, outcome.Reason, label, shardFile, outcome.Item - skippedBefore);
                }
            }
        }
    }

    private ShardCheckpoint WriteShard(string shardPath, string digest, int[] items, InputSet inputs, ImageSanitizer sanitizer,
                                       int threads, CancellationToken cancellationToken)
    {
        var notWritten = new List<ItemOutcome>();
        var classCounts = new SortedDictionary<int, long>();
        var framed = new List<FramedRecord>(ChunkSize);
        // With more than one thread, chunk k+1 is read, sanitized and framed (serialized, checksummed) on workers while
        // this thread writes chunk k with one gather write and adds it to the shard's SHA-256.
        using var writer = new ShardWriter(shardPath);
        Task<PreparedInput[]>? next = null;
        for (int chunk = 0; chunk < items.Length; chunk += ChunkSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            PreparedInput[] prepared = next is not null ? next.GetAwaiter().GetResult() : PrepareChunk(items, chunk, inputs, sanitizer, threads);
            int following = chunk + ChunkSize;
            next = threads > 1 && following < items.Length
                ? Task.Run(() => PrepareChunk(items, following, inputs, sanitizer, threads - 1), cancellationToken)
                : null;

            try
            {
                // Appended in plan order, whoever prepared them: the bytes do not depend on the thread count.
                framed.Clear();
                for (int i = 0; i < prepared.Length; i++)
                {
                    PreparedInput input = prepared[i];
                    int label = inputs.Items.LabelOf(items[chunk + i]);
                    if (input.Status == SanitizeStatus.Skipped)
                    {
                        notWritten.Add(new ItemOutcome(chunk + i, Skipped, input.Reason));
                        continue;
                    }

                    framed.Add(new FramedRecord(input.Record.AsMemory(0, input.RecordLength), input.PayloadCrc, label, input.Width, input.Height));
                    classCounts[label] = classCounts.GetValueOrDefault(label) + 1;
                    if (input.Status is SanitizeStatus.Reencoded or SanitizeStatus.Transcoded)
                    {
                        // Transcoded inputs are listed like re-encoded ones (only with --restart-interval, opt-in).
                        notWritten.Add(new ItemOutcome(chunk + i, input.Status == SanitizeStatus.Transcoded ? Transcoded : Reencoded, input.Reason));
                    }
                }

                writer.AppendFramed(framed);
            }
            finally
            {
                foreach (PreparedInput input in prepared)
                {
                    input.Dispose();
                }
            }
        }

        ManifestShard shard = writer.Complete();
        return new ShardCheckpoint(digest, shard, [.. classCounts.Keys], [.. classCounts.Values], notWritten);
    }

    private PreparedInput[] PrepareChunk(int[] items, int chunk, InputSet inputs, ImageSanitizer sanitizer, int threads)
    {
        var prepared = new PreparedInput[Math.Min(ChunkSize, items.Length - chunk)];
        if (threads > 1)
        {
            Parallel.For(0, prepared.Length, new ParallelOptions { MaxDegreeOfParallelism = threads },
                         i => prepared[i] = Prepare(items[chunk + i], inputs, sanitizer));
        }
        else
        {
            for (int i = 0; i < prepared.Length; i++)
            {
                prepared[i] = Prepare(items[chunk + i], inputs, sanitizer);
            }
        }

        return prepared;
    }

    /// <summary>Reads and sanitizes one input and, unless it is skipped, frames its Example as the shard will hold it.</summary>
    private PreparedInput Prepare(int item, InputSet inputs, ImageSanitizer sanitizer)
    {
        // The input's buffer goes back to the pool on return: a passthrough image has been copied into the record by then.
        using RentedBytes bytes = ReadAndSanitize(inputs, item, sanitizer, out SanitizedImage image);
        Interlocked.Increment(ref _itemsDone);
        if (image.Status == SanitizeStatus.Skipped)
        {
            return new PreparedInput(image.Status, image.Reason, [], 0, 0, 0, 0);
        }

        // Serialized straight into its place in a pooled, framed record: no per-image large-object-heap allocation
        // and no copy on the writing thread.
        int label = inputs.Items.LabelOf(item);
        ClassInfo cls = inputs.Classes[label];
        var example = new ImageExample(image.Jpeg, label, cls.Synset, cls.Name, inputs.Items.PathOf(item), image.Width, image.Height,
                                       image.Channels);
        int length = ImageExamplePayload.Size(example) + TfRecordFraming.Overhead;
        byte[] record = ArrayPool<byte>.Shared.Rent(length);
        ImageExamplePayload.Write(example, record.AsSpan(TfRecordFraming.HeaderSize, length - TfRecordFraming.Overhead));
        uint crc = TfRecordFraming.FrameInPlace(record.AsSpan(0, length));
        return new PreparedInput(image.Status, image.Reason, record, length, crc, image.Width, image.Height);
    }

    private RentedBytes ReadAndSanitize(InputSet inputs, int item, ImageSanitizer sanitizer, out SanitizedImage image)
    {
        RentedBytes bytes = default;
        try
        {
            bytes = inputs.Source.Read(inputs.Items, item);
            Interlocked.Add(ref _bytesDone, bytes.Length);
            image = sanitizer.Sanitize(bytes.Memory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // RecordCorruptException is an IOException: a bad record of a TFRecord input lands here too.
            image = SanitizedImage.Skip($"unreadable: {e.Message}");
        }

        return bytes;
    }

    /// <summary>One input ready to append: its outcome and, unless skipped, its framed record in a pooled buffer.</summary>
    private readonly record struct PreparedInput(SanitizeStatus Status, string? Reason, byte[] Record, int RecordLength, uint PayloadCrc,
                                                 int Width, int Height) : IDisposable
    {
        public void Dispose()
        {
            if (Record.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(Record);
            }
        }
    }

    private static ShardCheckpoint? TryReuse(string shardPath, string checkpointPath, string digest)
    {
        if (!File.Exists(checkpointPath) || !File.Exists(shardPath))
        {
            return null;
        }

        ShardCheckpoint? checkpoint;
        try
        {
            checkpoint = JsonSerializer.Deserialize(File.ReadAllText(checkpointPath), JobJsonContext.Default.ShardCheckpoint);
        }
        catch (JsonException)
        {
            return null;
        }

        bool intact = checkpoint is not null && checkpoint.PlanDigest == digest
            && new FileInfo(shardPath).Length == checkpoint.Shard.Bytes
            && File.Exists(ShardNaming.IndexPathFor(shardPath)) && File.Exists(ShardNaming.DaliIndexPathFor(shardPath));
        return intact ? checkpoint : null;
    }

    /// <summary>A digest of everything that determines a shard's bytes: a checkpoint with another digest is stale.</summary>
    private string PlanDigest(string name, int shard, int shardCount, InputSet inputs, int[] items)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string text) => hash.AppendData(Encoding.UTF8.GetBytes(text));
        Add(string.Create(CultureInfo.InvariantCulture, $"v{RecordFormat.Version}|{name}|{shard}/{shardCount}|{Options.Seed}|{Options.Sanitize}\n"));
        foreach (ClassInfo c in inputs.Classes)
        {
            Add(string.Create(CultureInfo.InvariantCulture, $"{c.Index}|{c.Synset}|{c.Name}\n"));
        }

        // Per input "PATH|LABEL|SIZE\n" in UTF-8, from the list's own UTF-8 path bytes (no string per input), gathered
        // into one buffer so the hash is fed in 64 KB blocks rather than a call or two per input.
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        int used = 0;
        foreach (int item in items)
        {
            ReadOnlySpan<byte> path = inputs.Items.Utf8PathOf(item);
            if (used + path.Length + 48 > buffer.Length)
            {
                hash.AppendData(buffer, 0, used);
                used = 0;
            }

            path.CopyTo(buffer.AsSpan(used));
            used += path.Length;
            bool formatted = Utf8.TryWrite(buffer.AsSpan(used), CultureInfo.InvariantCulture, $"|{inputs.Items.LabelOf(item)}|{inputs.Items.SizeOf(item)}\n", out int written);
            Debug.Assert(formatted); // 48 bytes hold "|" + an int + "|" + a long + "\n"
            used += written;
        }

        hash.AppendData(buffer, 0, used);
        ArrayPool<byte>.Shared.Return(buffer);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Deletes temporary files and our shards of another shard count for this name: what is left after a
    /// run is exactly this run's output. Also the manifest, until this run writes it again.</summary>
    private void RemoveStaleFiles(string name, int shardCount)
    {
        var keep = new HashSet<string>(StringComparer.Ordinal);
        for (int s = 0; s < shardCount; s++)
        {
            string shard = ShardNaming.ShardFileName(name, s, shardCount);
            keep.Add(shard);
            keep.Add(Path.GetFileName(ShardNaming.IndexPathFor(shard)));
            keep.Add(Path.GetFileName(ShardNaming.DaliIndexPathFor(shard)));
        }

        foreach (string file in Directory.EnumerateFiles(Options.Output))
        {
            string fileName = Path.GetFileName(file);
            if (ShardNaming.IsOwnShardOf(fileName, name) && !keep.Contains(fileName))
            {
                File.Delete(file);
            }
        }

        File.Delete(Path.Combine(Options.Output, ShardNaming.ManifestFileName));
    }

    private static bool IsInside(string path, string folder) =>
        path.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>The real path of a folder that may not exist yet: its nearest existing ancestor's, resolved, plus the rest.</summary>
    private static string RealPathOfNew(string path)
    {
        string? existing = path;
        while (existing is not null && !Directory.Exists(existing))
        {
            existing = Path.GetDirectoryName(existing);
        }

        if (existing is null || Interop.LibC.RealPath(existing) is not { } real)
        {
            return path;
        }

        return Path.Join(real, Path.GetRelativePath(existing, path));
    }

    private static string DefaultName(string input)
    {
        string folder = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(input)));
        string name = new([.. folder.Where(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')]);
        return name.Length > 0 ? name : "data";
    }
}
