using System.Text;
using Loader.Records.Writing;
using SkiaSharp;

namespace Loader.Pipeline.Tests.Support;

/// <summary>
/// A small real record directory for the end-to-end tests: JPEGs drawn with SkiaSharp, wrapped in tf.train.Example
/// protobufs (the ImageNet keys) and written with the records library's <see cref="ShardWriter"/>. Sample id i is
/// image i (shards in name order, records in order), label <c>i % Classes</c>.
/// </summary>
internal sealed class TestRecords : IDisposable
{
    public const int Classes = 4;

    private readonly List<(string Shard, long PayloadOffset, int PayloadLength)> _records = [];

    public TestRecords(int count, int shards = 2, Func<int, byte[]?>? imageOverride = null)
    {
        Directory = Path.Combine(Path.GetTempPath(), "loader-tests-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        Count = count;
        int perShard = (count + shards - 1) / shards;
        for (int s = 0; s < shards; s++)
        {
            string path = Path.Combine(Directory, $"test-{s:D5}-of-{shards:D5}.tfrecord");
            using var writer = new ShardWriter(path);
            long offset = 0;
            for (int i = s * perShard; i < Math.Min(count, (s + 1) * perShard); i++)
            {
                int width = 40 + (i * 7 % 50), height = 30 + (i * 11 % 40);
                byte[] image = imageOverride?.Invoke(i) ?? Jpeg(width, height, i);
                byte[] example = Example(image, i % Classes, $"img_{i:D3}.JPEG", width, height);
                writer.Append(example, i % Classes, width, height);
                _records.Add((path, offset + 12, example.Length));
                offset += example.Length + 16;
            }

            writer.Complete();
        }
    }

    public string Directory { get; }

    public int Count { get; }

    public string ShardOf(int sampleId) => _records[sampleId].Shard;

    /// <summary>Flips one byte in the middle of a record's payload: its CRC no longer matches.</summary>
    public void CorruptPayload(int sampleId)
    {
        (string shard, long offset, int length) = _records[sampleId];
        using var file = File.Open(shard, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset + (length / 2);
        int b = file.ReadByte();
        file.Position--;
        file.WriteByte((byte)(b ^ 0x5A));
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    /// <summary>A real JPEG with a pattern that differs per image (so crops and flips change the bytes).</summary>
    public static byte[] Jpeg(int width, int height, int seed)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 255 / width), (byte)(y * 255 / height), (byte)((seed * 37) + (x ^ y))));
            }
        }

        using SKData data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 92);
        return data.ToArray();
    }

    /// <summary>A tf.train.Example with image/encoded, image/class/label, image/filename, image/width, image/height.</summary>
    public static byte[] Example(byte[] image, int label, string fileName, int width, int height)
    {
        var features = new MemoryStream();
        Feature(features, "image/encoded", BytesList(image));
        Feature(features, "image/class/label", Int64List(label));
        Feature(features, "image/filename", BytesList(Encoding.UTF8.GetBytes(fileName)));
        Feature(features, "image/width", Int64List(width));
        Feature(features, "image/height", Int64List(height));
        var example = new MemoryStream();
        LengthDelimited(example, 1, features.ToArray()); // Example.features
        return example.ToArray();
    }

    private static void Feature(MemoryStream features, string key, byte[] feature)
    {
        var entry = new MemoryStream();
        LengthDelimited(entry, 1, Encoding.UTF8.GetBytes(key));
        LengthDelimited(entry, 2, feature);
        LengthDelimited(features, 1, entry.ToArray()); // Features.feature map entry
    }

    private static byte[] BytesList(byte[] value)
    {
        var list = new MemoryStream();
        LengthDelimited(list, 1, value);
        var feature = new MemoryStream();
        LengthDelimited(feature, 1, list.ToArray()); // Feature.bytes_list
        return feature.ToArray();
    }

    private static byte[] Int64List(long value)
    {
        var packed = new MemoryStream();
        Varint(packed, (ulong)value);
        var list = new MemoryStream();
        LengthDelimited(list, 1, packed.ToArray());
        var feature = new MemoryStream();
        LengthDelimited(feature, 3, list.ToArray()); // Feature.int64_list
        return feature.ToArray();
    }

    private static void LengthDelimited(MemoryStream stream, int field, byte[] bytes)
    {
        Varint(stream, (ulong)((field << 3) | 2));
        Varint(stream, (ulong)bytes.Length);
        stream.Write(bytes);
    }

    private static void Varint(MemoryStream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        stream.WriteByte((byte)value);
    }
}
