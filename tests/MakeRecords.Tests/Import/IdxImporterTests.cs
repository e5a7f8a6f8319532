using System.Buffers.Binary;
using Loader.Tools.MakeRecords.Import;
using SkiaSharp;

namespace Loader.Tools.MakeRecords.Tests.Import;

public sealed class IdxImporterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trainer-idx-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string WriteIdx(string name, int magic, int[] dimensions, byte[] payload)
    {
        var bytes = new byte[4 + (4 * dimensions.Length) + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int i = 0; i < dimensions.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + (4 * i)), dimensions[i]);
        payload.CopyTo(bytes, 4 + (4 * dimensions.Length));
        string path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Import_WritesOneJpegPerImage_InLabelPrefixedFolders()
    {
        // Three 8x8 images: black, white, and a left-dark/right-bright split; labels 2, 0, 2.
        var pixels = new byte[3 * 64];
        Array.Fill(pixels, (byte)255, 64, 64);
        for (int y = 0; y < 8; y++) Array.Fill(pixels, (byte)255, 128 + (y * 8) + 4, 4);
        string images = WriteIdx("images", 0x803, [3, 8, 8], pixels);
        string labels = WriteIdx("labels", 0x801, [3], [2, 0, 2]);
        string output = Path.Combine(_directory, "out");

        int count = IdxImporter.Import(images, labels, output, IdxImporter.FashionMnistClasses);

        Assert.Equal(3, count);
        Assert.Equal(["00_t-shirt_top", "02_pullover"], Directory.GetDirectories(output).Select(Path.GetFileName).Order());
        Assert.Equal(["00000.jpg", "00002.jpg"], Directory.GetFiles(Path.Combine(output, "02_pullover")).Select(Path.GetFileName).Order());
        using SKBitmap split = SKBitmap.Decode(Path.Combine(output, "02_pullover", "00002.jpg"));
        Assert.Equal((8, 8), (split.Width, split.Height));
        Assert.True(split.GetPixel(0, 4).Red < 40 && split.GetPixel(7, 4).Red > 215);
        using SKBitmap white = SKBitmap.Decode(Path.Combine(output, "00_t-shirt_top", "00001.jpg"));
        Assert.True(white.GetPixel(3, 3).Red > 245);
    }

    [Fact]
    public void Import_CountsDisagree_NamesBothFiles()
    {
        string images = WriteIdx("images", 0x803, [2, 2, 2], new byte[8]);
        string labels = WriteIdx("labels", 0x801, [3], [0, 1, 2]);
        var error = Assert.Throws<InvalidDataException>(() => IdxImporter.Import(images, labels, Path.Combine(_directory, "o"), null));
        Assert.Contains(images, error.Message, StringComparison.Ordinal);
        Assert.Contains(labels, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_NotIdx_SaysSo()
    {
        string bogus = Path.Combine(_directory, "bogus");
        File.WriteAllText(bogus, "definitely not an IDX file");
        var error = Assert.Throws<InvalidDataException>(() => IdxImporter.Import(bogus, bogus, Path.Combine(_directory, "o"), null));
        Assert.Contains("not an IDX", error.Message, StringComparison.Ordinal);
    }
}
