using Loader.Records.Index;
using Loader.Records.Reading;
using Loader.Records.Jpeg;

namespace Loader.Records.Writing;

/// <summary>
/// Adds our index, DALI's index and a manifest beside TFRecord files another tool wrote, without rewriting them:
/// every record is read front to back with its CRCs checked (a bad record stops with an error naming it) and the
/// shard's SHA-256 computed from the same reads (one read per byte), then
/// <c>.index</c> and <c>.idx</c> are written beside each shard and <c>manifest.json</c> into the folder, last: a folder
/// with a manifest is one whose every shard was indexed. A record whose JPEG header claims more than
/// <c>maxPixels</c> pixels stops it with an error naming the record (the files are not rewritten, so it cannot be
/// skipped: re-shard with make-records, which skips it). Shards are scanned in parallel (<see cref="Threads"/>);
/// progress: <see cref="TotalBytes"/> and <see cref="BytesDone"/>.
/// </summary>
public sealed class RecordIndexer(int threads = 0)
{
    private readonly ScanProgress _progress = new();

    /// <summary>Bytes of TFRecord files to scan: known once they are listed (0 before). Safe to read from any thread.</summary>
    public long TotalBytes => _progress.TotalBytes;

    /// <summary>Bytes of the shards scanned so far (counted as each shard finishes).</summary>
    public long BytesDone => _progress.BytesDone;

    /// <summary>Shards scanned at once; 0: one per core.</summary>
    public int Threads { get; } = threads > 0 ? threads : Environment.ProcessorCount;

    public static DatasetManifest IndexInPlace(string directory, string? name = null, long maxPixels = JpegHeader.DefaultMaxPixels) =>
        new RecordIndexer().Run(directory, name, maxPixels);

    public DatasetManifest Run(string directory, string? name = null, long maxPixels = JpegHeader.DefaultMaxPixels)
    {
        // A manifest from an earlier run must not outlive a failed one: it is written again, last.
        string manifestPath = Path.Combine(directory, ShardNaming.ManifestFileName);
        File.Delete(manifestPath);
        RecordDataset.PlainShards plain = RecordDataset.IndexPlainShards(directory, verifyCrc: true, trustOwnIndexes: false, maxPixels, hash: true,
                                                                         Threads, _progress);
        if (ShardNaming.NumberingProblem(plain.Paths.Select(Path.GetFileName).OfType<string>()) is { } missing)
        {
            throw new RecordFormatException(directory, null, -1, $"{missing}: an incomplete set gets no manifest");
        }

        var shards = new List<ManifestShard>(plain.Paths.Length);
        var counts = new long[plain.Classes.Length];
        for (int s = 0; s < plain.Paths.Length; s++)
        {
            string path = plain.Paths[s];
            ShardIndex index = plain.Indexes[s];
            string indexPath = ShardNaming.IndexPathFor(path);
            string daliPath = ShardNaming.DaliIndexPathFor(path);
            File.WriteAllBytes(indexPath + ".tmp", index.ToBytes());
            File.Move(indexPath + ".tmp", indexPath, overwrite: true);
            File.WriteAllText(daliPath + ".tmp", index.ToDaliIndexText());
            File.Move(daliPath + ".tmp", daliPath, overwrite: true);
            foreach (int label in index.Labels)
            {
                if ((uint)label < (uint)counts.Length)
                {
                    counts[label]++;
                }
            }

            // Every shard was scanned (trustOwnIndexes: false), so every one has its hash.
            string sha256 = plain.Sha256s![s] ?? throw new InvalidOperationException($"{path}: scanned without its SHA-256");

            shards.Add(new ManifestShard(Path.GetFileName(path), Path.GetFileName(indexPath), Path.GetFileName(daliPath), index.Count,
                                         index.ShardBytes, sha256));
        }

        string datasetName = name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
        var manifest = new DatasetManifest(RecordFormat.Version, datasetName, shards.Sum(s => s.Records),
                                           [.. plain.Classes.Select(c => new ManifestClass(c.Index, c.Synset, c.Name, counts[c.Index]))],
                                           shards, null)
        {
            LabelBase = plain.LabelBase,
        };
        manifest.Write(manifestPath);
        return manifest;
    }
}
