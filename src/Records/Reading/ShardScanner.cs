using Loader.Records.Format;
using Loader.Records.Index;
using Loader.Records.Jpeg;

namespace Loader.Records.Reading;

/// <summary>What a scan of one shard found: its index (labels as stored, not yet 0-based) and the class names
/// the records carry; with <c>hash</c>, its SHA-256 (lower-case hex) from the scan's own reads (null otherwise).</summary>
internal sealed record ScannedShard(ShardIndex Index, Dictionary<long, (string Synset, string Text)> ClassesByStoredLabel,
                                    bool HasLabels, string? Sha256 = null);

/// <summary>
/// Builds a shard's index by reading it front to back (<see cref="ShardStreamReader"/>): for TFRecord files written
/// by other tools, which come without our index. Slow path: it parses every Example with the generated types.
/// </summary>
internal static class ShardScanner
{
    /// <summary>Stored label used for records without <c>image/class/label</c>.</summary>
    public const long MissingLabel = long.MinValue;

    /// <param name="shardPath">The shard.</param>
    /// <param name="verifyCrc">Check both CRCs of every record.</param>
    /// <param name="maxPixels">Refuse (a <see cref="RecordFormatException"/>) a record whose JPEG header claims more pixels.</param>
    /// <param name="hash">Also compute the shard's SHA-256, from the same reads (one read per byte).</param>
    public static ScannedShard Scan(string shardPath, bool verifyCrc, long maxPixels = long.MaxValue, bool hash = false)
    {
        using var sha256 = hash ? System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256) : null;
        var offsets = new List<long>();
        var lengths = new List<int>();
        var crcs = new List<uint>();
        var labels = new List<long>();
        var widths = new List<int>();
        var heights = new List<int>();
        var classes = new Dictionary<long, (string, string)>();
        bool hasLabels = false;
        using var reader = new ShardStreamReader(shardPath, verifyCrc, sha256: sha256);
        while (reader.Read() is { } record)
        {
            ImageExample example;
            long storedLabel;
            try
            {
                // Parse with label base 0 so Label is the stored value; 0-based conversion happens per data set.
                example = ImageExample.Parse(record.Payload.Span, labelBase: 0);
                storedLabel = ExampleLocator.TryLocate(record.Payload.Span, out LocatedExample located) && located.StoredLabel is { } l
                    ? l
                    : MissingLabel;
            }
            catch (Exception e) when (e is InvalidDataException or Google.Protobuf.InvalidProtocolBufferException)
            {
                throw new RecordCorruptException(shardPath, record.RecordInShard, $"not an image tf.train.Example: {e.Message}");
            }

            int width = example.Width, height = example.Height;
            bool parsed = JpegHeader.TryParse(example.Encoded.Span, out JpegInfo info, out _);
            if (parsed && info.Pixels > maxPixels)
            {
                throw new RecordFormatException(shardPath, "image/encoded", record.RecordInShard,
                    $"the JPEG header claims {info.Width}x{info.Height} = {info.Pixels} pixels, more than --max-pixels {maxPixels}");
            }

            if ((width <= 0 || height <= 0) && parsed)
            {
                width = info.Width;
                height = info.Height;
            }

            if (storedLabel != MissingLabel)
            {
                hasLabels = true;
                if (!classes.ContainsKey(storedLabel))
                {
                    classes[storedLabel] = (example.Synset, example.ClassText);
                }
            }

            offsets.Add(record.Offset);
            lengths.Add(record.Payload.Length);
            crcs.Add(record.Crc);
            labels.Add(storedLabel);
            widths.Add(width);
            heights.Add(height);
        }

        long size = reader.Position;
        // Labels stay as stored (clamped into int) until the data set decides its label base.
        int[] storedLabels = labels.Select(l => l == MissingLabel ? int.MinValue : (int)Math.Clamp(l, int.MinValue + 1, int.MaxValue)).ToArray();
        var index = new ShardIndex(Path.GetFileName(shardPath), size, [.. offsets], [.. lengths], [.. crcs], storedLabels,
                                   [.. widths], [.. heights]);
        // Read returned null: the reader met the end of the file, so every byte went through the hash.
        return new ScannedShard(index, classes, hasLabels, sha256 is null ? null : Convert.ToHexStringLower(sha256.GetHashAndReset()));
    }
}
