using System.Text;
using Loader.Records.Reading;

namespace Loader.Records.Tests.Reading;

/// <summary>
/// Records written by a tiny writer made from the spec alone (bitwise CRC-32C, hand-encoded protobuf): nothing from
/// the library's writer, CRC or generated code is used, so this checks the reader against the format, not itself.
/// </summary>
public class ForeignTfRecordTests
{
    [Fact]
    public void Open_PlainTfRecordFilesFromAnotherWriter_ReadBack()
    {
        using var dir = new TempDirectory();
        var expected = new List<(byte[] Image, int Label)>();
        var random = new Random(11);
        // TensorFlow-style names: extension-less "-00000-of-00002" and a .tfrecords file sort in this order.
        foreach (string file in new[] { "train-00000-of-00002", "train-00001-of-00002" })
        {
            using var stream = File.Create(Path.Combine(dir.Path, file));
            for (int r = 0; r < 5; r++)
            {
                byte[] image = TestImages.Jpeg(random.Next(8, 40), random.Next(8, 40), seed: random.Next());
                int storedLabel = random.Next(1, 6); // 1-based, as TensorFlow's ImageNet scripts write.
                WriteRecord(stream, EncodeExample(image, storedLabel, $"n0000000{storedLabel}"));
                expected.Add((image, storedLabel - 1));
            }
        }

        using var dataset = RecordDataset.Open(dir.Path);
        Assert.Null(dataset.Manifest);
        Assert.Equal(10, dataset.Count);
        byte[] buffer = [];
        for (int id = 0; id < 10; id++)
        {
            EncodedImage image = dataset.ReadImage(id, ref buffer);
            Assert.Equal(expected[id].Image, buffer.AsSpan(image.Offset, image.Length).ToArray());
            Assert.Equal(expected[id].Label, image.Label);
        }

        foreach (ClassInfo c in dataset.Classes)
        {
            if (expected.Any(e => e.Label == c.Index))
            {
                Assert.Equal($"n0000000{c.Index + 1}", c.Synset);
            }
        }

        VerificationReport report = DatasetVerifier.Verify(dir.Path);
        Assert.True(report.Ok, string.Join('\n', report.Problems));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public void IndexInPlace_ForeignFiles_GetIndexDaliIndexAndManifest_AndVerify(int labelBase)
    {
        using var dir = new TempDirectory();
        var expected = new List<(byte[] Image, int Label)>();
        var random = new Random(5 + labelBase);
        using (var stream = File.Create(Path.Combine(dir.Path, "val.tfrecords")))
        {
            for (int r = 0; r < 6; r++)
            {
                byte[] image = TestImages.Jpeg(random.Next(8, 40), random.Next(8, 40), seed: random.Next());
                int label = r % 3;
                WriteRecord(stream, EncodeExample(image, label + labelBase, $"s{label}"));
                expected.Add((image, label));
            }
        }

        string shard = Path.Combine(dir.Path, "val.tfrecords");
        byte[] before = File.ReadAllBytes(shard);
        var manifest = Loader.Records.Writing.RecordIndexer.IndexInPlace(dir.Path);
        Assert.Equal(before, File.ReadAllBytes(shard)); // not rewritten
        Assert.Equal(labelBase, manifest.LabelBase);
        Assert.Equal([2L, 2L, 2L], manifest.Classes.Select(c => c.Count));
        Assert.True(File.Exists(Path.Combine(dir.Path, "val.tfrecords.idx")));
        Assert.True(DatasetVerifier.Verify(dir.Path).Ok);

        using var dataset = RecordDataset.Open(dir.Path);
        Assert.NotNull(dataset.Manifest);
        byte[] buffer = [];
        for (int id = 0; id < expected.Count; id++)
        {
            EncodedImage image = dataset.ReadImage(id, ref buffer);
            Assert.Equal(expected[id].Image, buffer.AsSpan(image.Offset, image.Length).ToArray());
            Assert.Equal(expected[id].Label, image.Label);
        }
    }

    internal static void WriteRecord(Stream stream, byte[] payload)
    {
        byte[] length = BitConverter.GetBytes((ulong)payload.Length);
        stream.Write(length);
        stream.Write(BitConverter.GetBytes(MaskedCrc(length)));
        stream.Write(payload);
        stream.Write(BitConverter.GetBytes(MaskedCrc(payload)));
    }

    private static uint MaskedCrc(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
            }
        }

        crc = ~crc;
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8);
    }

    internal static byte[] EncodeExample(byte[] image, long label, string synset)
    {
        byte[] features = [
            .. Field(1, Entry("image/class/synset", Field(1, Field(1, Encoding.UTF8.GetBytes(synset))))),
            .. Field(1, Entry("image/encoded", Field(1, Field(1, image)))),
            .. Field(1, Entry("image/class/label", Field(3, Field(1, Varint((ulong)label))))),
        ];
        return Field(1, features);
    }

    private static byte[] Entry(string key, byte[] feature) => [.. Field(1, Encoding.UTF8.GetBytes(key)), .. Field(2, feature)];

    private static byte[] Field(int number, byte[] body) => [.. Varint((ulong)((number << 3) | 2)), .. Varint((ulong)body.Length), .. body];

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }
}
