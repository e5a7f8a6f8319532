using Loader.Records.Tests;
using Loader.Tools.MakeRecords.Inputs.ImageNet;

namespace Loader.Tools.MakeRecords.Tests.Inputs.ImageNet;

public class MatFileTests
{
    private static MatStruct ReadSynsets(byte[] bytes)
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("meta.mat");
        File.WriteAllBytes(path, bytes);
        return Assert.IsType<MatStruct>(Assert.Single(MatFile.Read(path)));
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void Read_StructArray_RoundTripsEveryFieldOfEveryElement(bool compress, bool integersAsUInt8)
    {
        MatStruct synsets = ReadSynsets(ImageNetTree.MetaMatBytes(compress, integersAsUInt8));

        Assert.Equal("synsets", synsets.Name);
        Assert.Equal([5, 1], synsets.Dimensions);
        Assert.Equal(["ILSVRC2012_ID", "WNID", "words", "gloss", "num_children", "children", "wordnet_height", "num_train_images"], synsets.FieldNames);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal([i + 1.0], Assert.IsType<MatNumeric>(synsets.Field(i, "ILSVRC2012_ID")).Values);
            string wnid = ImageNetTree.Synsets[Array.IndexOf(ImageNetTree.DevkitIds, i + 1)];
            Assert.Equal(wnid, Assert.IsType<MatChar>(synsets.Field(i, "WNID")).Text);
            Assert.Equal($"words of {wnid}, a class", Assert.IsType<MatChar>(synsets.Field(i, "words")).Text);
            Assert.Empty(Assert.IsType<MatNumeric>(synsets.Field(i, "children")).Values);
            Assert.Equal([1300.0], Assert.IsType<MatNumeric>(synsets.Field(i, "num_train_images")).Values);
        }

        Assert.Equal([1.0, 2.0], Assert.IsType<MatNumeric>(synsets.Field(4, "children")).Values);
        Assert.Equal("that which is perceived", Assert.IsType<MatChar>(synsets.Field(4, "gloss")).Text);
    }

    [Fact]
    public void Read_NonAsciiText_IsUtf16()
    {
        MatStruct s = ReadSynsets(MatFileWriter.StructArray("synsets", ["WNID", "words"], [["n01440764", "tench, Tinca tinca, Schleie \u00e9\u4e2d"]], compress: true));
        Assert.Equal("tench, Tinca tinca, Schleie \u00e9\u4e2d", Assert.IsType<MatChar>(s.Field(0, "words")).Text);
    }

    /// <summary>Every truncation and many corruptions of a real-shaped file: a value or one InvalidDataException line, nothing else.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Read_TruncatedOrCorrupted_IsAValueOrOneLineError_NeverACrash(bool compress)
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("meta.mat");
        byte[] good = ImageNetTree.MetaMatBytes(compress);
        var random = new Random(7);
        var cases = new List<byte[]>();
        for (int length = 0; length < good.Length; length += compress ? 1 : 3)
        {
            cases.Add(good[..length]);
        }

        for (int k = 0; k < 600; k++)
        {
            byte[] bad = (byte[])good.Clone();
            for (int flips = random.Next(1, 4); flips > 0; flips--)
            {
                int at = random.Next(128, bad.Length);
                bad[at] = (k % 3) switch { 0 => (byte)random.Next(256), 1 => 0xFF, _ => (byte)(bad[at] ^ (1 << random.Next(8))) };
            }

            cases.Add(bad);
        }

        int refused = 0;
        foreach (byte[] bytes in cases)
        {
            File.WriteAllBytes(path, bytes);
            try
            {
                MatFile.Read(path);
            }
            catch (InvalidDataException e)
            {
                refused++;
                Assert.StartsWith(path + ":", e.Message, StringComparison.Ordinal);
                Assert.DoesNotContain('\n', e.Message);
            }
        }

        Assert.True(refused > cases.Count / 2, $"{refused} of {cases.Count} refused");
    }

    [Fact]
    public void Read_HugeClaimedSizes_AreRefusedBeforeAllocating()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("meta.mat");
        // A struct of 2^30 x 1 elements with one field, in a 200-byte file.
        byte[] bytes = MatFileWriter.StructArray("synsets", ["a"], [[1.0]], compress: false);
        int dims = FindDimensions(bytes);
        BitConverter.GetBytes(1 << 30).CopyTo(bytes, dims);
        File.WriteAllBytes(path, bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => MatFile.Read(path));
        Assert.Contains("cannot fit", e.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
    }

    /// <summary>The offset of the struct's first dimension: after the header, the matrix tag (8), the flags (16) and the
    /// dimensions tag (8).</summary>
    private static int FindDimensions(byte[] bytes) => 128 + 8 + 16 + 8;

    [Fact]
    public void Read_NotAMatFile_OrBigEndian_IsNamed()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("x.mat");
        File.WriteAllText(path, "hello");
        Assert.Equal($"{path}: not a MATLAB 5 MAT-file (no \"MATLAB 5.0 MAT-file\" header)", Assert.Throws<InvalidDataException>(() => MatFile.Read(path)).Message);
        byte[] header = MatFileWriter.Header();
        header[126] = (byte)'M';
        header[127] = (byte)'I';
        File.WriteAllBytes(path, header);
        Assert.Contains("big-endian", Assert.Throws<InvalidDataException>(() => MatFile.Read(path)).Message, StringComparison.Ordinal);
    }
}
