using System.Buffers.Binary;
using Google.Protobuf;
using Loader.Records.Format;
using Loader.Records.Index;
using Loader.Records.Protos;
using Loader.Records.Reading;

namespace Loader.Tools.Fuzz;

/// <summary>
/// Cuts a seed corpus out of a real record directory (make-records output): single and paired framed records,
/// Example payloads, JPEG headers and whole small JPEGs (for the header walk and, behind a mode byte, for the sample
/// target), index files (as stored, as their uncompressed message, and DALI's text), manifest.json. One folder per
/// target, inputs already carrying the target's mode byte.
/// </summary>
public static class SeedCorpus
{
    private const int RecordsPerShard = 2;

    /// <summary>Larger seeds slow every execution of the fuzzer and add no new structure.</summary>
    private const int MaxSeedBytes = 16 << 10;

    public static int Write(string recordDirectory, string outputDirectory)
    {
        int written = 0;
        string prefix = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(recordDirectory)));
        void Seed(string target, string name, ReadOnlySpan<byte> bytes)
        {
            if (bytes.Length > MaxSeedBytes)
            {
                return;
            }

            string folder = Path.Combine(outputDirectory, target);
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(Path.Combine(folder, $"{prefix}-{name}"), bytes.ToArray());
            written++;
        }

        string manifestPath = Path.Combine(recordDirectory, ShardNaming.ManifestFileName);
        DatasetManifest manifest = DatasetManifest.Read(manifestPath);
        Seed("manifest", "manifest.json", File.ReadAllBytes(manifestPath));
        for (int s = 0; s < manifest.Shards.Count; s++)
        {
            ManifestShard shard = manifest.Shards[s];
            string shardPath = Path.Combine(recordDirectory, shard.File);
            byte[] shardBytes = File.ReadAllBytes(shardPath);

            byte[] index = File.ReadAllBytes(Path.Combine(recordDirectory, shard.Index));
            Seed("index", $"shard{s}-file", [0, .. index]);
            ShardIndex parsed = ShardIndex.FromBytes(index, shard.Index);
            Seed("index", $"shard{s}-message", [1, .. ToMessage(parsed).ToByteArray()]);
            Seed("index", $"shard{s}-dali", [2, .. File.ReadAllBytes(Path.Combine(recordDirectory, shard.DaliIndex))]);

            using var reader = new ShardStreamReader(shardPath);
            var ends = new List<long>();
            for (int r = 0; r < RecordsPerShard && reader.Read() is { } record; r++)
            {
                long end = record.Offset + record.Payload.Length + TfRecordFraming.Overhead;
                ends.Add(end);
                ReadOnlySpan<byte> framed = shardBytes.AsSpan((int)record.Offset, (int)(end - record.Offset));
                Seed("framing", $"shard{s}-record{r}", [0, .. framed]);
                Seed("example", $"shard{s}-record{r}", record.Payload.Span);
                if (ExampleLocator.TryLocate(record.Payload.Span, out LocatedExample located))
                {
                    ReadOnlySpan<byte> jpeg = record.Payload.Span.Slice(located.EncodedOffset, located.EncodedLength);
                    Seed("jpeg", $"shard{s}-record{r}-whole", jpeg);
                    Seed("jpeg", $"shard{s}-record{r}-header", JpegHeaderOnly(jpeg));
                    Seed("sample", $"shard{s}-record{r}-train", [(byte)(2 * r), .. jpeg]); // mode bit 0 clear: training
                    Seed("sample", $"shard{s}-record{r}-eval", [1, .. jpeg]);
                }
            }

            if (ends.Count == RecordsPerShard)
            {
                // The first two records back to back, CRCs repaired by the harness (mode 1): mutations of the first
                // record's length still reach a second record's framing.
                Seed("framing", $"shard{s}-two-records", [1, .. shardBytes.AsSpan(0, (int)ends[^1])]);
            }
        }

        return written;
    }

    /// <summary>The marker segments up to and including SOS, a few bytes of scan data, then EOI: what the header
    /// walk reads, without the kilobytes of entropy-coded data.</summary>
    internal static byte[] JpegHeaderOnly(ReadOnlySpan<byte> jpeg)
    {
        int position = 2;
        while (position + 4 <= jpeg.Length && jpeg[position] == 0xFF)
        {
            byte marker = jpeg[position + 1];
            int length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[(position + 2)..]);
            position += 2 + length;
            if (marker == 0xDA)
            {
                break;
            }
        }

        int end = Math.Min(position + 32, jpeg.Length);
        return [.. jpeg[..end], 0xFF, 0xD9];
    }

    private static ShardIndexProto ToMessage(ShardIndex index)
    {
        var proto = new ShardIndexProto { FormatVersion = Loader.Records.RecordFormat.Version, ShardFile = index.ShardFile, ShardBytes = index.ShardBytes };
        proto.Offset.AddRange(index.Offsets);
        proto.Length.AddRange(index.Lengths);
        proto.Crc.AddRange(index.Crcs);
        proto.Label.AddRange(index.Labels);
        proto.Width.AddRange(index.Widths);
        proto.Height.AddRange(index.Heights);
        return proto;
    }
}
