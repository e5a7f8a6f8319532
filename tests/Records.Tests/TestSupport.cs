using Loader.Records.Format;
using Loader.Records.Index;
using Loader.Records.Writing;
using SkiaSharp;

namespace Loader.Records.Tests;

/// <summary>A fresh temporary folder, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "records-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder is harmless.
        }
    }
}

/// <summary>Small images made in the test with SkiaSharp, plus checked-in fixtures ImageMagick made.</summary>
internal static class TestImages
{
    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>A JPEG of the given size: a colour gradient plus a seeded pattern, so every image differs.</summary>
    public static byte[] Jpeg(int width, int height, int seed = 0, int quality = 90, bool gray = false)
    {
        using var bitmap = Draw(width, height, seed);
        if (gray)
        {
            using var g = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
            bitmap.PeekPixels().ReadPixels(g.PeekPixels());
            return g.PeekPixels().Encode(new SKJpegEncoderOptions(quality, SKJpegEncoderDownsample.Downsample420, SKJpegEncoderAlphaOption.Ignore))!.ToArray();
        }

        return bitmap.PeekPixels().Encode(new SKJpegEncoderOptions(quality, SKJpegEncoderDownsample.Downsample420, SKJpegEncoderAlphaOption.Ignore))!.ToArray();
    }

    public static byte[] Png(int width, int height, int seed = 0)
    {
        using var bitmap = Draw(width, height, seed);
        return bitmap.PeekPixels().Encode(SKEncodedImageFormat.Png, 100)!.ToArray();
    }

    /// <summary>Inserts an EXIF APP1 segment with one IFD0 entry (Orientation) after SOI.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, int orientation, bool bigEndian)
    {
        byte[] tiff = bigEndian
            ? [(byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (byte)orientation, 0, 0, 0, 0, 0, 0, 0]
            : [(byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, (byte)orientation, 0, 0, 0, 0, 0, 0, 0, 0];
        byte[] body = [.. "Exif\0\0"u8, .. tiff];
        int length = body.Length + 2;
        byte[] app1 = [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. body];
        return [.. jpeg.AsSpan(0, 2), .. app1, .. jpeg.AsSpan(2)];
    }

    public static SKBitmap Decode(ReadOnlySpan<byte> bytes) => SKBitmap.Decode(bytes) ?? throw new InvalidDataException("undecodable");

    private static SKBitmap Draw(int width, int height, int seed)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        var random = new Random(seed);
        canvas.Clear(new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
        using var paint = new SKPaint { IsAntialias = true };
        for (int i = 0; i < 8; i++)
        {
            paint.Color = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
            canvas.DrawCircle(random.Next(width), random.Next(height), random.Next(4, Math.Max(5, width / 3)), paint);
        }

        return bitmap;
    }
}

/// <summary>Writes a record directory straight through <see cref="ShardWriter"/> (no sanitizing), for reader tests.</summary>
internal static class TestRecords
{
    /// <summary>Returns the images per global sample id, in shard order.</summary>
    public static List<(byte[] Jpeg, int Label)> Write(string directory, int shards, int perShard, int classes = 3)
    {
        var images = new List<(byte[], int)>();
        var manifestShards = new List<ManifestShard>();
        var counts = new long[classes];
        for (int s = 0; s < shards; s++)
        {
            string path = System.IO.Path.Combine(directory, ShardNaming.ShardFileName("test", s, shards));
            using var writer = new ShardWriter(path);
            for (int r = 0; r < perShard; r++)
            {
                int label = (s * perShard + r) % classes;
                byte[] jpeg = TestImages.Jpeg(24 + r, 16 + s, seed: (s * 100) + r);
                var example = new ImageExample(jpeg, label, $"n{label:D8}", $"class {label}", $"c{label}/img{s}_{r}.jpg", 24 + r, 16 + s, 3);
                writer.Append(example.ToPayload(), label, 24 + r, 16 + s);
                images.Add((jpeg, label));
                counts[label]++;
            }

            manifestShards.Add(writer.Complete());
        }

        var manifest = new DatasetManifest(RecordFormat.Version, "test", images.Count,
            [.. Enumerable.Range(0, classes).Select(c => new ManifestClass(c, $"n{c:D8}", $"class {c}", counts[c]))],
            manifestShards, null);
        manifest.Write(System.IO.Path.Combine(directory, ShardNaming.ManifestFileName));
        return images;
    }

    /// <summary>One shard (and its index, no manifest) of the given images and 0-based labels, as our writer makes it.</summary>
    public static string WriteShard(string directory, string fileName, IEnumerable<(byte[] Jpeg, int Label)> records)
    {
        string path = System.IO.Path.Combine(directory, fileName);
        using var writer = new ShardWriter(path);
        foreach ((byte[] jpeg, int label) in records)
        {
            writer.Append(new ImageExample(jpeg, label, "n0", "class", "x.jpg", 24, 16, 3).ToPayload(), label, 24, 16);
        }

        writer.Complete();
        return path;
    }

    /// <summary>Rewrites a shard's index with <paramref name="change"/> applied to its columns (an index that lies).</summary>
    public static void RewriteIndex(string shardPath, Action<ShardIndex> change)
    {
        string indexPath = ShardNaming.IndexPathFor(shardPath);
        ShardIndex index = ShardIndex.Read(indexPath);
        change(index);
        File.WriteAllBytes(indexPath, index.ToBytes());
    }
}
