using System.Buffers.Binary;
using System.IO.Compression;
using SkiaSharp;

namespace Loader.Tools.MakeRecords.Import;

/// <summary>
/// Converts an IDX image/label pair (MNIST, Fashion-MNIST; plain or .gz) into an ImageFolder tree of JPEGs,
/// OUT/NN_name/NNNNN.jpg, which make-records turns into records. Class folders get a two-digit prefix so that
/// their sorted order is the IDX label order.
/// </summary>
internal static class IdxImporter
{
    public static IReadOnlyList<string> FashionMnistClasses { get; } =
        ["t-shirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle_boot"];

    public static int Import(string imagesPath, string labelsPath, string output, IReadOnlyList<string>? classNames, int quality = 95)
    {
        byte[] images = ReadAll(imagesPath);
        byte[] labels = ReadAll(labelsPath);
        if (images.Length < 16 || BinaryPrimitives.ReadInt32BigEndian(images) != 0x00000803)
            throw new InvalidDataException($"{imagesPath}: not an IDX file of unsigned bytes with 3 dimensions (magic 0x803).");
        if (labels.Length < 8 || BinaryPrimitives.ReadInt32BigEndian(labels) != 0x00000801)
            throw new InvalidDataException($"{labelsPath}: not an IDX label file (magic 0x801).");
        int count = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(4));
        int rows = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(8));
        int columns = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(12));
        int labelCount = BinaryPrimitives.ReadInt32BigEndian(labels.AsSpan(4));
        if (labelCount != count) throw new InvalidDataException($"{imagesPath} holds {count} images but {labelsPath} {labelCount} labels.");
        if (images.Length < 16 + ((long)count * rows * columns) || labels.Length < 8 + count)
            throw new InvalidDataException($"{imagesPath} or {labelsPath} is truncated.");

        int pixels = rows * columns;
        var info = new SKImageInfo(columns, rows, SKColorType.Gray8, SKAlphaType.Opaque);
        var folders = new Dictionary<int, string>();
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            int label = labels[8 + i];
            string folder;
            lock (folders)
            {
                if (!folders.TryGetValue(label, out folder!))
                {
                    string name = classNames != null && label < classNames.Count ? classNames[label] : "class";
                    folder = Path.Combine(output, $"{label:D2}_{name}");
                    Directory.CreateDirectory(folder);
                    folders[label] = folder;
                }
            }
            using var bitmap = new SKBitmap(info);
            images.AsSpan(16 + (i * pixels), pixels).CopyTo(bitmap.GetPixelSpan());
            using SKData jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality);
            using FileStream file = File.Create(Path.Combine(folder, $"{i:D5}.jpg"));
            jpeg.SaveTo(file);
        });
        return count;
    }

    private static byte[] ReadAll(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file.", path);
        if (!path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) return File.ReadAllBytes(path);
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        return memory.ToArray();
    }
}
