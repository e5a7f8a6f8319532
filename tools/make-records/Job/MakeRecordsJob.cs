using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;
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
    public const string WorkFolderName = ".make-records";
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
        if (string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(Options.Input)),
                          Path.TrimEndingDirectorySeparator(Path.GetFullPath(Options.Output)), StringComparison.Ordinal))
        {
            throw new ArgumentException("--output must differ from --input (to index TFRecord files where they are, use: make-records index DIR)");
        }

        using InputSet inputs = InputScanner.Scan(Options.Input, Options.FileList);
        ItemsTotal = inputs.Items.Count;
        string name = Options.Name ?? DefaultName(Options.Input);
        int[] order = SeededShuffle.Permutation(inputs.Items.Count, Options.Seed);
        long totalBytes = inputs.Items.Sum(i => i.Size);
        int shardCount = Options.Shards ?? (int)Math.Clamp((totalBytes + Options.ShardSize - 1) / Math.Max(1, Options.ShardSize), 1, 99_999);
        if (shardCount is < 1 or > 99_999)
        {
            throw new ArgumentException($"--shards must be between 1 and 99999 (got {shardCount})");
        }

        Directory.CreateDirectory(Options.Output);
        string workFolder = Path.Combine(Options.Output, WorkFolderName);
        Directory.CreateDirectory(workFolder);
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
                int start = (int)((long)shard * order.Length / shardCount);
                int end = (int)((long)(shard + 1) * order.Length / shardCount);
                InputItem[] items = [.. order[start..end].Select(i => inputs.Items[i])];
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
        foreach (int label in results.SelectMany(r => r.Labels))
        {
            counts[label]++;
        }

        List<InputOutcome> outcomes = [.. results.SelectMany(r => r.Outcomes)
                                                 .Concat(inputs.Ignored.Select(i => new InputOutcome(i.Path, "skipped", i.Reason, -1, null, null)))
                                                 .OrderBy(o => o.Path, StringComparer.Ordinal)];
        long inputFiles = inputs.Items.Count + inputs.Ignored.Count;
        long written = outcomes.Count(o => o.Status == "written");
        long reencoded = outcomes.Count(o => o.Status == "reencoded");
        long skipped = outcomes.Count(o => o.Status == "skipped");
        long transcoded = outcomes.Count(o => o.Status == "transcoded");
        string? restart = Options.Sanitize.Restart.IsOff ? null : Options.Sanitize.Restart.ToString();
        var manifest = new DatasetManifest(
            RecordFormat.Version,
            name,
            results.Sum(r => r.Shard.Records),
            [.. inputs.Classes.Select(c => new ManifestClass(c.Index, c.Synset, c.Name, counts[c.Index]))],
            [.. results.Select(r => r.Shard)],
            new ManifestSource(Options.Input, inputs.Kind, Options.Seed, inputFiles, written, reencoded, skipped,
                               Options.Sanitize.MaxSide) { RestartInterval = restart, Transcoded = transcoded });
        manifest.Write(Path.Combine(Options.Output, ShardNaming.ManifestFileName));

        var report = new RunReport(Options.Input, Options.Output, inputs.Kind, inputFiles, written, reencoded, skipped,
                                   manifest.RecordCount, shardCount, reused, Math.Round(clock.Elapsed.TotalSeconds, 3), outcomes)
        {
            RestartInterval = restart,
            Transcoded = transcoded,
        };
        if (Options.ReportPath is { } reportPath)
        {
            string? folder = Path.GetDirectoryName(Path.GetFullPath(reportPath));
            if (folder is not null)
            {
                Directory.CreateDirectory(folder);
            }

            File.WriteAllText(reportPath, JsonSerializer.Serialize(report, JobJsonContext.Default.RunReport) + "\n");
        }

        return new JobResult(manifest, report);
    }

    private ShardCheckpoint WriteShard(string shardPath, string digest, InputItem[] items, InputSet inputs, ImageSanitizer sanitizer,
                                       int threads, CancellationToken cancellationToken)
    {
        string shardFile = Path.GetFileName(shardPath);
        var outcomes = new List<InputOutcome>(items.Length);
        var labels = new List<int>(items.Length);
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
                    InputItem item = items[chunk + i];
                    if (input.Status == SanitizeStatus.Skipped)
                    {
                        outcomes.Add(new InputOutcome(item.RelativePath, "skipped", input.Reason, item.Label, null, null));
                        continue;
                    }

                    int record = writer.Count + framed.Count;
                    framed.Add(new FramedRecord(input.Record.AsMemory(0, input.RecordLength), input.PayloadCrc, item.Label, input.Width, input.Height));
                    labels.Add(item.Label);
                    string status = input.Status switch
                    {
                        SanitizeStatus.Reencoded => "reencoded",
                        SanitizeStatus.Transcoded => "transcoded",
                        _ => "written",
                    };
                    outcomes.Add(new InputOutcome(item.RelativePath, status, input.Reason, item.Label, shardFile, record));
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
        return new ShardCheckpoint(digest, shard, [.. labels], outcomes);
    }

    private PreparedInput[] PrepareChunk(InputItem[] items, int chunk, InputSet inputs, ImageSanitizer sanitizer, int threads)
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
    private PreparedInput Prepare(InputItem item, InputSet inputs, ImageSanitizer sanitizer)
    {
        // The input's buffer goes back to the pool on return: a passthrough image has been copied into the record by then.
        using RentedBytes bytes = ReadAndSanitize(item, sanitizer, out SanitizedImage image);
        Interlocked.Increment(ref _itemsDone);
        if (image.Status == SanitizeStatus.Skipped)
        {
            return new PreparedInput(image.Status, image.Reason, [], 0, 0, 0, 0);
        }

        // Serialized straight into its place in a pooled, framed record: no per-image large-object-heap allocation
        // and no copy on the writing thread.
        ClassInfo cls = inputs.Classes[item.Label];
        var example = new ImageExample(image.Jpeg, item.Label, cls.Synset, cls.Name, item.RelativePath, image.Width, image.Height,
                                       image.Channels);
        int length = ImageExamplePayload.Size(example) + TfRecordFraming.Overhead;
        byte[] record = ArrayPool<byte>.Shared.Rent(length);
        ImageExamplePayload.Write(example, record.AsSpan(TfRecordFraming.HeaderSize, length - TfRecordFraming.Overhead));
        uint crc = TfRecordFraming.FrameInPlace(record.AsSpan(0, length));
        return new PreparedInput(image.Status, image.Reason, record, length, crc, image.Width, image.Height);
    }

    private RentedBytes ReadAndSanitize(InputItem item, ImageSanitizer sanitizer, out SanitizedImage image)
    {
        RentedBytes bytes = default;
        try
        {
            bytes = item.Source.Read();
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
    private string PlanDigest(string name, int shard, int shardCount, InputSet inputs, InputItem[] items)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"v{RecordFormat.Version}|{name}|{shard}/{shardCount}|{Options.Seed}|{Options.Sanitize}\n");
        foreach (ClassInfo c in inputs.Classes)
        {
            text.Append(CultureInfo.InvariantCulture, $"{c.Index}|{c.Synset}|{c.Name}\n");
        }

        foreach (InputItem item in items)
        {
            text.Append(CultureInfo.InvariantCulture, $"{item.RelativePath}|{item.Label}|{item.Size}\n");
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
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

    private static string DefaultName(string input)
    {
        string folder = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(input)));
        string name = new([.. folder.Where(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')]);
        return name.Length > 0 ? name : "data";
    }
}
