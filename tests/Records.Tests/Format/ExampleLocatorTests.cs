using Google.Protobuf;
using Loader.Records.Format;
using Loader.Records.Protos.TensorFlow;
using Loader.Records.Tests.Fuzzing;

namespace Loader.Records.Tests.Format;

public class ExampleLocatorTests
{
    [Fact]
    public void TryLocate_AgreesWithGeneratedParser()
    {
        var random = new Random(3);
        for (int i = 0; i < 50; i++)
        {
            byte[] image = new byte[random.Next(0, 5000)];
            random.NextBytes(image);
            var example = new ImageExample(image, random.Next(0, 1000), "n01440764", "tench", $"f{i}.jpg",
                                           random.Next(1, 70000), random.Next(1, 70000), 3);
            byte[] payload = example.ToPayload();

            Assert.True(ExampleLocator.TryLocate(payload, out LocatedExample located));
            Assert.Equal(image, payload.AsSpan(located.EncodedOffset, located.EncodedLength).ToArray());
            Assert.Equal(example.Label + 1, located.StoredLabel);
            Assert.Equal(example.Width, located.Width);
            Assert.Equal(example.Height, located.Height);

            ImageExample parsed = ImageExample.Parse(payload);
            Assert.Equal(example.Label, parsed.Label);
            Assert.Equal(image, parsed.Encoded.ToArray());
            Assert.Equal("tench", parsed.ClassText);
        }
    }

    [Fact]
    public void TryLocate_ReadsUnpackedInt64AndFeatureOrderFromOtherWriters()
    {
        // Keys in another order, and the label written unpacked (field 1, wire type 0), as some writers do.
        var features = new Features();
        features.Feature.Add("image/encoded", new Feature { BytesList = new BytesList { Value = { ByteString.CopyFrom(1, 2, 3) } } });
        features.Feature.Add("image/format", new Feature { BytesList = new BytesList { Value = { ByteString.CopyFromUtf8("JPEG") } } });
        byte[] payload = new Example { Features = features }.ToByteArray();
        // Append a map entry by hand: key "image/class/label", value Feature{int64_list{value: 42 (unpacked)}}.
        byte[] int64List = [0x08, 42];
        byte[] feature = [0x1A, (byte)int64List.Length, .. int64List];
        byte[] key = "image/class/label"u8.ToArray();
        byte[] entry = [0x0A, (byte)key.Length, .. key, 0x12, (byte)feature.Length, .. feature];
        byte[] featuresField = [0x0A, (byte)entry.Length, .. entry];
        byte[] extra = [0x0A, (byte)featuresField.Length, .. featuresField]; // Example.features again: protobuf merges.
        byte[] merged = [.. payload, .. extra];

        Assert.True(ExampleLocator.TryLocate(merged, out LocatedExample located));
        Assert.Equal(42, located.StoredLabel);
        Assert.Equal(new byte[] { 1, 2, 3 }, merged.AsSpan(located.EncodedOffset, located.EncodedLength).ToArray());
        Assert.Equal(41, ImageExample.Parse(merged).Label);
    }

    [Fact]
    public void TryLocate_RejectsGarbageAndTruncation_WithoutThrowing()
    {
        byte[] payload = new ImageExample(new byte[100], 1, "s", "t", "f", 1, 1, 3).ToPayload();
        for (int cut = 0; cut < payload.Length; cut += 7)
        {
            // A cut payload must either fail cleanly or (if the cut falls after image/encoded) still point inside it.
            if (ExampleLocator.TryLocate(payload.AsSpan(0, cut), out LocatedExample located))
            {
                Assert.True(located.EncodedOffset + located.EncodedLength <= cut);
            }
        }

        Assert.False(ExampleLocator.TryLocate([0xFF, 0xFF, 0xFF], out _));
        Assert.False(ExampleLocator.TryLocate([], out _));
    }

    [Fact]
    public void TryLocate_FastPathsGiveTheGeneralWalksAnswer_OnWritersLayoutsAndOddOnes()
    {
        foreach (byte[] payload in LayoutSeeds())
        {
            AssertSameAsReference(payload);
            for (int cut = 0; cut <= payload.Length; cut++)
            {
                AssertSameAsReference(payload.AsSpan(0, cut));
            }
        }
    }

    [Fact]
    public void TryLocate_FastPathsGiveTheGeneralWalksAnswer_OnMutatedPayloads()
    {
        // Small images, so that most mutations land in the fields, tags and lengths rather than in the JPEG bytes.
        var mutator = new SeedMutator(LayoutSeeds(), seed: 15);
        int located = 0;
        for (int i = 0; i < 40_000; i++)
        {
            byte[] payload = mutator.Next();
            located += AssertSameAsReference(payload) ? 1 : 0;
        }

        // Both outcomes are exercised: a mutation pass where everything fails would compare little.
        Assert.InRange(located, 2_000, 38_000);
    }

    /// <summary>The answer with the fast paths must be the general walk's alone, field for field.</summary>
    private static bool AssertSameAsReference(ReadOnlySpan<byte> payload)
    {
        bool expected = ExampleLocator.TryLocateGeneral(payload, out LocatedExample want);
        bool actual = ExampleLocator.TryLocate(payload, out LocatedExample got);
        Assert.True(expected == actual && want == got,
                    $"payload {Convert.ToHexString(payload)}: reference {expected} {want}, product {actual} {got}");
        return actual;
    }

    /// <summary>Payloads as make-records writes them (one- to three-byte lengths and varints), and layouts other
    /// writers may produce, each of which one fast path must either read alike or leave to the general walk.</summary>
    private static List<byte[]> LayoutSeeds()
    {
        var seeds = new List<byte[]>();
        foreach ((int imageBytes, int label, int side) in new[] { (0, 0, 1), (5, 126, 127), (20, 127, 128), (120, 128, 16383), (200, 999, 16384), (20_000, 100_000, 70_000) })
        {
            seeds.Add(new ImageExample(new byte[imageBytes], label, "n01440764", "tench", "a.jpg", side, side + 1, 3).ToPayload());
        }

        byte[] key = "image/class/label"u8.ToArray();
        byte[] packedRun = Field(3, Field(1, [0x8C, 0x07]));
        byte[] encoded = Field(1, Field(1, [0xFF, 0xD8, 0xFF, 0xD9]));
        byte[][] entries =
        [
            [.. Field(1, key), .. Field(2, packedRun)],                          // the writers' layout
            [.. Field(2, packedRun), .. Field(1, key)],                          // value before key
            [.. Field(1, "image/width"u8.ToArray()), .. Field(1, key), .. Field(2, packedRun)], // key twice
            [.. Field(1, key), .. Field(2, packedRun), 0x18, 0x01],             // one more field after the value
            [.. Field(1, key), .. Field(2, packedRun), .. Field(2, Field(3, Field(1, [0x05])))], // value twice
            [.. Field(1, key), .. Field(2, Field(3, Field(1, [0x01, 0x02])))],   // packed run of two
            [.. Field(1, key), .. Field(2, Field(3, Field(1, [])))],             // empty packed run
            [.. Field(1, key), .. Field(2, Field(3, Field(1, [0x80])))],         // run ends inside a varint
            [.. Field(1, key), .. Field(2, Field(3, [0x08, 0x2A]))],             // unpacked
            [.. Field(1, key), .. Field(2, [.. Field(3, []), .. packedRun])],    // an empty list first
            [0x8A, 0x00, (byte)key.Length, .. key, .. Field(2, packedRun)],       // a two-byte tag for field 1
            [.. Field(1, new byte[200]), .. Field(2, packedRun)],                // a key of two length bytes
            [.. Field(1, "image/encoded"u8.ToArray()), .. Field(2, encoded)],
            [.. Field(1, "image/encoded"u8.ToArray()), .. Field(2, Field(1, [.. Field(1, [1]), .. Field(1, [2, 3])]))], // two values
            [.. Field(1, "image/encoded"u8.ToArray()), .. Field(2, [.. Field(1, []), .. encoded])],   // an empty list first
            [.. Field(1, "image/encoded"u8.ToArray()), .. Field(2, [.. encoded, 0x10, 0x00])],        // a field after the list
            [.. Field(1, "image/encoded"u8.ToArray()), .. Field(2, Field(1, [.. Field(2, [9]), .. Field(1, [7])]))], // other field first
            [.. Field(1, "image/encoded"u8.ToArray()), .. Field(2, Field(1, Field(1, new byte[300])))], // two-byte lengths
        ];
        foreach (byte[] entry in entries)
        {
            byte[] features = [.. Field(1, entry), .. Field(1, [.. Field(1, "image/encoded"u8.ToArray()), .. Field(2, encoded)])];
            seeds.Add(Field(1, features));
            seeds.Add(Field(1, Field(1, entry)));
        }

        return seeds;
    }

    /// <summary>A length-delimited field: one-byte tag, varint length, bytes.</summary>
    private static byte[] Field(int number, byte[] bytes)
    {
        var field = new List<byte> { (byte)((number << 3) | 2) };
        for (uint length = (uint)bytes.Length; ; length >>= 7)
        {
            field.Add((byte)(length < 0x80 ? length : (length & 0x7F) | 0x80));
            if (length < 0x80)
            {
                break;
            }
        }

        field.AddRange(bytes);
        return [.. field];
    }
}
